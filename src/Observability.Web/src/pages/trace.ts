import { get, type Span, type Trace } from "../api";
import { h, link, replace, table } from "../dom";
import * as fmt from "../format";
import { palette } from "../charts";
import { href, type Route } from "../router";

/**
 * One trace as a waterfall: the span tree (the API sends it in tree order with each span's depth) on a time
 * axis. A row opens its details in place; a link to another span is followed to its trace. ?span=ID opens one.
 */
export async function tracePage(root: HTMLElement, route: Route): Promise<void> {
  const traceId = route.params[0];
  const trace = await get<Trace>(`traces/${encodeURIComponent(traceId)}`);
  const colors = new Map(trace.services.map((s, i) => [s, palette[i % palette.length]]));
  const start = BigInt(trace.spans.reduce((min, s) => BigInt(s.startTimeUnixNano) < BigInt(min) ? s.startTimeUnixNano : min, trace.spans[0].startTimeUnixNano));
  const total = Math.max(trace.durationNanos, 1);
  const offset = (s: Span) => Number(BigInt(s.startTimeUnixNano) - start);
  const root0 = trace.spans[0];

  const rows = h("div", { class: "waterfall-rows", role: "tree", "aria-label": "Spans" });
  for (const span of trace.spans) rows.append(row(span, offset(span), total, colors.get(span.service)!));

  replace(root,
    h("div", { class: "page-head" },
      h("h1", null, h("span", { class: "svc" }, root0.service), " ", root0.name),
      h("p", { class: "hint" }, link(href("traces"), "← all traces"))),
    h("dl", { class: "facts" },
      fact("Trace", h("code", null, trace.traceId)), fact("Started", fmt.time(trace.startTime)), fact("Duration", fmt.nanos(trace.durationNanos)),
      fact("Spans", String(trace.spanCount)), fact("Errors", trace.errorCount > 0 ? h("span", { class: "bad" }, String(trace.errorCount)) : "0"),
      fact("Services", h("span", null, trace.services.map(s => h("span", { class: "legend" }, h("i", { style: `background:${colors.get(s)}` }), s))))),
    h("section", { class: "card waterfall" }, axis(total), rows));

  rows.addEventListener("keydown", e => {
    const current = (e.target as Element).closest<HTMLElement>(".span-row");
    if (!current) return;
    const all = [...rows.querySelectorAll<HTMLElement>(".span-row")];
    const i = all.indexOf(current);
    if (e.key === "ArrowDown" && i < all.length - 1) { all[i + 1].focus(); e.preventDefault(); }
    else if (e.key === "ArrowUp" && i > 0) { all[i - 1].focus(); e.preventDefault(); }
    else if (e.key === "Enter" || e.key === " ") { toggle(current, trace); e.preventDefault(); }
  });
  rows.addEventListener("click", e => {
    if ((e.target as Element).closest("a, .span-detail")) return;
    const current = (e.target as Element).closest<HTMLElement>(".span-row");
    if (current) toggle(current, trace);
  });

  const wanted = route.query.get("span");
  const target = wanted ? rows.querySelector<HTMLElement>(`.span-row[data-span-id="${CSS.escape(wanted)}"]`) : null;
  if (target) { toggle(target, trace); target.scrollIntoView({ block: "center" }); target.focus(); }
}

function fact(label: string, value: Node | string): Node[] {
  return [h("dt", null, label), h("dd", null, value)];
}

function axis(total: number): HTMLElement {
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  return h("div", { class: "waterfall-axis", "aria-hidden": "true" },
    h("div", { class: "name-col" }, "Span"),
    h("div", { class: "bar-col" }, ticks.map(t => h("span", { class: "tick", style: `left:${t * 100}%` }, fmt.nanos(t * total)))));
}

export function coldStartLabel(span: Span): string | null {
  const phase = span.attributes["obs.coldstart.phase"];
  if (typeof phase === "string") return `cold-start phase: ${phase}`;
  if (span.name === "faas.coldstart") return "cold-start record";
  if (span.function?.coldStart) return "cold start";
  return null;
}

function row(span: Span, offsetNanos: number, total: number, color: string): HTMLElement {
  const left = 100 * offsetNanos / total;
  const width = Math.max(0.3, 100 * span.durationNanos / total);
  const error = span.status.code === "error";
  const cold = coldStartLabel(span);
  // The duration goes after the bar, else before it, else (a bar across the whole axis) inside it.
  const place = left + width <= 84 ? "after" : left >= 16 ? "before" : "inside";
  return h("div", {
    class: "span-row" + (error ? " error" : "") + (cold ? " cold" : ""), role: "treeitem", tabindex: "0", "aria-expanded": "false",
    "aria-level": span.depth + 1, "data-span-id": span.spanId, "data-depth": span.depth, "data-name": span.name,
  },
  h("div", { class: "name-col", style: `padding-left:${0.5 + span.depth * 1.1}rem`, title: `${span.service}: ${span.name}` },
    h("i", { class: "svc-dot", style: `background:${color}` }),
    h("span", { class: "span-name" }, span.name),
    h("span", { class: "svc-name" }, span.service),
    error ? h("span", { class: "badge bad", title: span.status.message ?? "error" }, "error") : null,
    cold ? h("span", { class: "badge cold", title: cold }, "❄ " + (cold.startsWith("cold-start phase") ? String(span.attributes["obs.coldstart.phase"]) : "cold")) : null,
    span.warmUp ? h("span", { class: "badge", title: "warm-up ping" }, "warm-up") : null,
    span.links.length > 0 ? h("span", { class: "badge", title: "this span links to other spans: open it to follow them" }, `↗ ${span.links.length} link${span.links.length === 1 ? "" : "s"}`) : null),
  h("div", { class: "bar-col" },
    h("span", { class: "bar", style: `left:${left.toFixed(3)}%;width:${width.toFixed(3)}%;background:${error ? "var(--bad)" : color}` }),
    span.events.map(e => h("span", { class: "event-mark", title: e.name,
      style: `left:${(100 * (offsetNanos + Number(BigInt(e.timeUnixNano) - BigInt(span.startTimeUnixNano))) / total).toFixed(3)}%` })),
    h("span", {
      class: `bar-label ${place}`,
      style: place === "after" ? `left:${(left + width).toFixed(3)}%` : place === "before" ? `right:${(100 - left).toFixed(3)}%` : `right:${(100 - left - width).toFixed(3)}%`,
    }, fmt.nanos(span.durationNanos))));
}

function toggle(rowEl: HTMLElement, trace: Trace): void {
  const next = rowEl.nextElementSibling;
  if (next?.classList.contains("span-detail")) { next.remove(); rowEl.setAttribute("aria-expanded", "false"); return; }
  const span = trace.spans.find(s => s.spanId === rowEl.dataset.spanId)!;
  rowEl.after(detail(span, trace));
  rowEl.setAttribute("aria-expanded", "true");
}

function value(v: unknown): string {
  return typeof v === "string" ? v : JSON.stringify(v);
}

function attributes(attrs: Record<string, unknown>): HTMLElement {
  const keys = Object.keys(attrs).sort();
  return keys.length === 0 ? h("p", { class: "muted" }, "none")
    : table(["Key", "Value"], keys.map(k => [h("code", null, k), h("span", { class: "wrap" }, value(attrs[k]))]), { class: "kv" });
}

function detail(span: Span, trace: Trace): HTMLElement {
  const spanStart = BigInt(span.startTimeUnixNano);
  const f = span.function;
  return h("div", { class: "span-detail", role: "group", "aria-label": `Details of ${span.name}` },
    h("dl", { class: "facts small" },
      fact("Span", h("code", null, span.spanId)), fact("Kind", span.kind), fact("Service", span.service),
      fact("Duration", fmt.nanos(span.durationNanos)), fact("Started", fmt.time(span.startTime)),
      fact("Status", h("span", { class: span.status.code === "error" ? "bad" : null }, span.status.code + (span.status.message ? `: ${span.status.message}` : ""))),
      f ? fact("Function", `${f.name}${f.version ? ` v${f.version}` : ""}${f.instance ? ` on ${f.instance}` : ""}${f.trigger ? ` (${f.trigger})` : ""}${f.coldStart ? ", cold start" : ""}`) : [],
      span.scopeName ? fact("Scope", span.scopeName) : []),
    h("h4", null, "Attributes"), attributes(span.attributes),
    span.events.length > 0 ? [h("h4", null, `Events (${span.events.length})`), table(["At", "Event", "Attributes"], span.events.map(e => [
      "+" + fmt.nanos(Number(BigInt(e.timeUnixNano) - spanStart)), e.name,
      h("span", { class: "wrap" }, Object.entries(e.attributes ?? {}).map(([k, v]) => `${k}=${value(v)}`).join("\n")),
    ]), { class: "kv events" })] : null,
    span.links.length > 0 ? [h("h4", null, `Links (${span.links.length})`), h("ul", { class: "links" }, span.links.map(l => h("li", null,
      link(href(`traces/${l.traceId}`, { span: l.spanId }), l.traceId === trace.traceId ? "span in this trace" : "linked trace", " ", h("code", null, `${fmt.shortId(l.traceId)}…/${l.spanId}`)),
      Object.keys(l.attributes ?? {}).length > 0 ? ` (${Object.entries(l.attributes!).map(([k, v]) => `${k}=${value(v)}`).join(", ")})` : null)))] : null,
    h("details", null, h("summary", null, "Resource"), attributes(span.resource)));
}

import { get, type List, type Service, type TraceSummary } from "../api";
import { empty, h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { href, navigate, type Route } from "../router";
import { pagedList, pageSize, withCursor } from "../paging";
import { RANGES } from "./functions";

const FIELDS = ["service", "function", "name", "minDuration", "maxDuration", "attr", "errors", "range", "limit"] as const;

/** Trace search: the form's state lives in the URL, so a search can be bookmarked and shared. */
export async function tracesPage(root: HTMLElement, route: Route): Promise<() => Promise<void>> {
  const q = route.query;
  const services = await get<List<Service>>("services").catch(() => ({ items: [] as Service[] }));
  const input = (name: string, label: string, placeholder: string, extra: Record<string, string | boolean> = {}) =>
    h("label", null, label, h("input", { name, value: q.get(name) ?? "", placeholder, autocomplete: "off", ...extra }));
  const form = h("form", { class: "search", role: "search", "aria-label": "Search traces" },
    h("label", null, "Service", h("select", { name: "service" }, h("option", { value: "" }, "any"),
      services.items.map(s => h("option", { value: s.name, selected: q.get("service") === s.name }, s.name)))),
    input("function", "Function", "any", { "data-search": true }),
    input("name", "Span name", "e.g. GET /orders"),
    input("minDuration", "Min duration", "250ms", { size: "7" }),
    input("maxDuration", "Max duration", "2s", { size: "7" }),
    input("attr", "Attribute", "http.route=/orders"),
    h("label", null, "Time", h("select", { name: "range" }, RANGES.map(([v, text]) => h("option", { value: v, selected: (q.get("range") ?? "1h") === v }, text)))),
    h("label", { class: "check" }, h("input", { type: "checkbox", name: "errors", value: "true", checked: q.get("errors") === "true" }), "errors only"),
    // A page size given in the URL stays with the next search.
    q.get("limit") ? h("input", { type: "hidden", name: "limit", value: q.get("limit") }) : null,
    h("button", { type: "submit", class: "primary" }, "Search"));
  form.addEventListener("submit", e => {
    e.preventDefault();
    const data = new FormData(form);
    const query: Record<string, string> = {};
    for (const f of FIELDS) { const v = data.get(f); if (typeof v === "string" && v.trim()) query[f] = v.trim(); }
    if (query.range === "1h") delete query.range;
    navigate(href("traces", query));
  });

  const filtered = [...q.keys()].some(k => k !== "range" && k !== "limit");
  const list = pagedList<TraceSummary, List<TraceSummary>>({
    start: () => {
      const minutes = RANGES.find(r => r[0] === (q.get("range") ?? "1h"))?.[2] ?? 60;
      const end = new Date();
      const [attrKey, ...attrValue] = (q.get("attr") ?? "").split("=");
      const query = {
        service: q.get("service"), function: q.get("function"), name: q.get("name"),
        minDuration: q.get("minDuration"), maxDuration: q.get("maxDuration"), errors: q.get("errors") === "true",
        start: new Date(end.getTime() - minutes * 60_000).toISOString(), end: end.toISOString(), limit: pageSize(route, 50),
        ...(attrKey && attrValue.length > 0 ? { [`attr.${attrKey.trim()}`]: attrValue.join("=").trim() } : {}),
      };
      return cursor => get<List<TraceSummary>>("traces", withCursor(query, cursor));
    },
    key: t => t.traceId,
    render: (traces, last, more) => view(traces, filtered, Boolean(last.next), more),
    noun: ["trace", "traces"],
  });
  const results = h("div", null, list.element);
  replace(root, h("div", { class: "page-head" }, h("h1", null, "Traces"),
    h("p", { class: "hint" }, "Press ", h("kbd", null, "/"), " to search. A trace matches when one of its spans matches every filter.")), form, results);

  try { await list.load(); } catch (e) { replace(results, h("div", { class: "error-box", role: "alert" }, String(e instanceof Error ? e.message : e))); }
  return list.load;
}

function view(traces: TraceSummary[], filtered: boolean, hasMore: boolean, more: HTMLElement): HTMLElement {
  if (traces.length === 0) {
    return empty(filtered ? "No trace matches these filters" : "No traces in this time range",
      h("p", null, filtered ? "Widen the time range or remove a filter." :
        "Spans arrive on the collector's OTLP ports (4317 gRPC, 4318 HTTP) with the write key. Point a sidecar or an OpenTelemetry SDK there (see the Functions page), or pick a longer time range."));
  }
  const longest = Math.max(...traces.map(t => t.durationNanos), 1);
  const title = hasMore
    ? `The newest ${traces.length} traces`
    : `${traces.length} trace${traces.length === 1 ? "" : "s"}, newest first`;
  return section(title, table(
    ["Started", "Root span", ["Duration", "num"], "", ["Spans", "num"], ["Errors", "num"], "Services", "Trace"],
    traces.map(t => [
      fmt.time(t.startTime),
      link(href(`traces/${t.traceId}`), h("span", { class: "svc" }, t.rootService), " ", t.rootName),
      fmt.nanos(t.durationNanos),
      h("span", { class: "mini-bar" + (t.errorCount > 0 ? " error" : ""), style: `width:${Math.max(2, 100 * t.durationNanos / longest).toFixed(1)}%` }),
      String(t.spanCount),
      t.errorCount > 0 ? h("span", { class: "bad" }, String(t.errorCount)) : "0",
      t.services.join(", "),
      h("code", null, fmt.shortId(t.traceId)),
    ]), { class: "data", "data-table": "traces" }), more);
}

import { get, type FunctionRow, type List } from "../api";
import { empty, h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { pagedList, pageSize, withCursor } from "../paging";
import { href, navigate, type Route } from "../router";

export const RANGES: [string, string, number][] = [["15m", "last 15 minutes", 15], ["1h", "last hour", 60], ["6h", "last 6 hours", 360], ["24h", "last 24 hours", 1440], ["7d", "last 7 days", 10080]];

export function rangeOf(route: Route, fallback = "1h"): { key: string; start: string; end: string } {
  const key = route.query.get("range") ?? fallback;
  const minutes = RANGES.find(r => r[0] === key)?.[2] ?? 60;
  const end = new Date();
  return { key, start: new Date(end.getTime() - minutes * 60_000).toISOString(), end: end.toISOString() };
}

/** A select that changes ?range= of the current page. */
export function rangePicker(route: Route, page: string, fallback = "1h"): HTMLElement {
  const select = h("select", { name: "range", "aria-label": "Time range" },
    RANGES.map(([v, text]) => h("option", { value: v, selected: (route.query.get("range") ?? fallback) === v }, text)));
  select.addEventListener("change", () => {
    const q = Object.fromEntries(route.query.entries());
    q.range = select.value;
    navigate(href(page, q));
  });
  return h("label", { class: "range" }, "Time ", select);
}

/** Every function and version the collector has seen: traffic, errors, cold starts, latency, idle time, warm-up. */
export async function functionsPage(root: HTMLElement, route: Route): Promise<() => Promise<void>> {
  const limit = pageSize(route, 100);
  const list = pagedList<FunctionRow, List<FunctionRow>>({
    start: () => {
      const { start, end } = rangeOf(route);
      return cursor => get<List<FunctionRow>>("functions", withCursor({ start, end, limit }, cursor));
    },
    key: f => `${f.name}\u0000${f.version}`,
    render: (rows, _, more) => view(rows, more),
    noun: ["function version", "function versions"],
  });
  replace(root, h("div", { class: "page-head" }, h("h1", null, "Functions"),
    h("p", { class: "hint" }, "Per function and version; warm-up pings are left out of every rate."), rangePicker(route, "functions")), list.element);
  await list.load();
  return list.load;
}

const ratio = (part: number, whole: number) => whole > 0 ? part / whole : null;

function view(rows: FunctionRow[], more: HTMLElement): HTMLElement {
  if (rows.length === 0) {
    return empty("No function has sent a span yet",
      h("p", null, "Put the sidecar in front of a function and point it at this collector's OTLP/HTTP port with the write key:"),
      h("pre", null, `obs-sidecar --name checkout --version 7 --port 8081 --upstream-port 8080 \\
  --otlp-endpoint http://${location.hostname}:4318 --otlp-headers "Authorization=Bearer $OBS_WRITE_KEY" \\
  -- dotnet Checkout.dll`),
      h("p", null, "Or run ", h("code", null, "obs up"), ", which prints the keys and starts a collector here. Any OpenTelemetry SDK that sets ",
        h("code", null, "faas.name"), " works too (docs/sidecar.md)."));
  }
  const hasWarmUp = rows.some(r => r.warmUp);
  const headers: (string | [string, string])[] = ["Function", "Version", ["Invocations", "num"], ["Error rate", "num"], ["Cold-start rate", "num"],
    ["p95 latency", "num"], "Last invoked", ["Idle", "num"], ["Instances", "num"]];
  if (hasWarmUp) headers.push("Warm-up");
  headers.push("");
  return section(`${rows.length} function version${rows.length === 1 ? "" : "s"}`, table(headers, rows.map(f => {
    const r = f.range;
    const invocations = r ? r.invocations : f.invocations;
    const errorRate = r ? r.errorRate ?? null : ratio(f.errors, f.invocations);
    const coldRate = r ? r.coldStartRate ?? null : ratio(f.coldStarts, f.invocations);
    const last = f.lastInvoked ?? f.lastSeen;
    const idle = f.idleSeconds ?? (Date.now() - new Date(last).getTime()) / 1000;
    const cells = [
      link(href("coldstarts", { function: f.name, version: f.version }), f.name),
      h("code", null, f.version || "–"),
      fmt.count(invocations),
      h("span", { class: errorRate && errorRate > 0.01 ? "bad" : null }, fmt.percent(errorRate)),
      fmt.percent(coldRate),
      fmt.duration(r?.p95LatencyMs),
      h("span", { title: fmt.time(last) }, fmt.ago(last)),
      fmt.duration(idle * 1000),
      String(f.instances.length),
    ];
    if (hasWarmUp) {
      const w = f.warmUp;
      cells.push(w ? h("span", { title: w.url ?? "" }, `${w.policy ?? "?"}`,
        w.pings ? h("span", { class: "muted" }, ` · ${w.pings.warm} warm, ${w.pings.cold} cold, ${w.pings.failed} failed`) : null) : "–");
    }
    cells.push(h("span", { class: "row-links" },
      link(href("traces", { function: f.name }), "traces"), " · ",
      link(href("failures", { function: f.name }), "failures")));
    return cells;
  }), { class: "data", "data-table": "functions" }), more);
}

import { get, optional, type FunctionRow, type List } from "../api";
import { histogram, palette, stackedBar, timeChart } from "../charts";
import { empty, h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { href, navigate, type Route } from "../router";
import { rangeOf, rangePicker } from "./functions";

// Shapes of /api/v1/coldstarts and /api/v1/coldstarts/compare (docs/collector.md, docs/cold-start-analysis.md).
interface Percentiles { p50?: number | null; p95?: number | null; p99?: number | null }
interface Bucket { start: string; invocations: number; coldStarts: number; coldStartRate?: number | null; initP95Ms?: number | null }
interface Contributor { name: string; ms: number; count?: number | null }
interface ColdStarts {
  function: string; version?: string | null; invocations: number; coldStarts: number; coldStartRate?: number | null;
  initMs: Percentiles; phasesMedianMs: Record<string, number | null>; firstInvocationExtraMs?: number | null;
  initHistogram?: { edgesMs: number[]; counts: number[] } | null;
  series: Bucket[];
  profile?: { coldStarts?: number; assemblies: Contributor[]; methods: Contributor[] } | null;
  tail?: { p99Ms?: number | null; coldShareAboveP99?: number | null; p99WithoutColdMs?: number | null; requestsAboveP99?: number | null } | null;
}
interface VersionSide { version: string; coldStarts: number; invocations: number; coldStartRate?: number | null; initP95Ms?: number | null }
interface Comparison {
  function: string; from: VersionSide; to: VersionSide; initP95ChangeMs?: number | null; initP95ChangeRatio?: number | null;
  coldStartRateChange?: number | null; initTest?: { pValue: number } | null; rateTest?: { pValue: number } | null; regression: boolean; reasons?: string[];
}

const PHASES: [string, string][] = [["spawn", "spawn"], ["runtimeStart", "runtime start"], ["appInit", "app init"], ["init", "init (rest)"], ["firstRequest", "first request"]];

/** Cold starts of one function (and version): how often, how long, where the time goes, what it costs the tail. */
export async function coldStartsPage(root: HTMLElement, route: Route): Promise<() => Promise<void>> {
  const functions = (await get<List<FunctionRow>>("functions", { limit: 500 })).items;
  const names = [...new Set(functions.map(f => f.name))].sort();
  const fn = route.query.get("function") ?? functions.filter(f => f.coldStarts > 0).map(f => f.name).sort()[0] ?? names[0];
  const version = route.query.get("version") ?? "";
  const versions = functions.filter(f => f.name === fn).map(f => f.version).sort();
  const body = h("div");

  const pick = (name: string, values: string[], selected: string, any: string | null, onChange: (v: string) => void) => {
    const select = h("select", { name, "aria-label": name }, any !== null ? h("option", { value: "" }, any) : null,
      values.map(v => h("option", { value: v, selected: v === selected }, v || "(none)")));
    select.addEventListener("change", () => onChange(select.value));
    return h("label", null, name[0].toUpperCase() + name.slice(1) + " ", select);
  };
  const go = (q: Record<string, string | undefined>) => navigate(href("coldstarts", { ...Object.fromEntries(route.query.entries()), ...q }));
  replace(root, h("div", { class: "page-head" }, h("h1", null, "Cold starts"),
    fn ? h("div", { class: "pickers" },
      pick("function", names, fn, null, v => go({ function: v, version: undefined })),
      pick("version", versions, version, "all versions", v => go({ version: v })),
      rangePicker(route, "coldstarts", "24h")) : null), body);

  if (!fn) {
    replace(body, empty("No function has sent a span yet", h("p", null, "Cold starts appear once a sidecar supervises a function and it starts (see the Functions page for how to point one at this collector).")));
    return async () => {};
  }
  const load = async () => {
    const { start, end } = rangeOf(route, "24h");
    const [data, compare] = await Promise.all([
      optional<ColdStarts>("coldstarts", { function: fn, version: version || null, start, end, buckets: 24 }),
      versions.length > 1 ? optional<Comparison>("coldstarts/compare", { function: fn }) : Promise.resolve(null),
    ]);
    replace(body, data ? view(data, compare) : empty("This collector has no cold-start analysis", h("p", null, "Update the collector: /api/v1/coldstarts is missing.")));
  };
  await load();
  return load;
}

function view(d: ColdStarts, compare: Comparison | null): HTMLElement {
  if (d.coldStarts === 0) {
    return h("div", null, summary(d), empty("No cold start in this time range",
      h("p", null, "A cold start is the first request a new function process serves. Run the function under the sidecar (which starts it, or attaches to it) and send it a request; with ",
        h("code", null, "--idle-timeout"), " the sidecar stops an idle function so the next request starts it cold.")), compare ? comparison(compare) : null);
  }
  const x = d.series.map(b => new Date(b.start).getTime() / 1000);
  return h("div", null,
    summary(d),
    h("div", { class: "two-col" },
      section("Rate and p95 init duration over time", timeChart("cold-start rate and p95 init", x, [
        { label: "cold-start rate", values: d.series.map(b => b.coldStartRate ?? null), color: palette[0], scale: "%", format: v => fmt.percent(v, 0) },
        { label: "p95 init", values: d.series.map(b => b.initP95Ms ?? null), color: palette[1], scale: "ms", format: v => fmt.duration(v), dash: [6, 3] },
      ])),
      section("Init duration distribution", d.initHistogram && d.initHistogram.counts.length > 0
        ? histogram("init duration", d.initHistogram.edgesMs, d.initHistogram.counts, v => fmt.duration(v))
        : h("p", { class: "muted" }, "no init durations recorded"))),
    h("div", { class: "two-col" }, phases(d), tail(d)),
    compare ? comparison(compare) : null,
    profile(d));
}

function summary(d: ColdStarts): HTMLElement {
  return h("dl", { class: "facts big" },
    [h("dt", null, "Cold starts"), h("dd", { "data-fact": "coldStarts" }, fmt.count(d.coldStarts))],
    [h("dt", null, "Cold-start rate"), h("dd", { "data-fact": "coldStartRate" }, fmt.percent(d.coldStartRate), h("small", null, ` of ${fmt.count(d.invocations)}`))],
    [h("dt", null, "Init p50"), h("dd", null, fmt.duration(d.initMs.p50))],
    [h("dt", null, "Init p95"), h("dd", { "data-fact": "initP95" }, fmt.duration(d.initMs.p95))],
    [h("dt", null, "Init p99"), h("dd", null, fmt.duration(d.initMs.p99))],
    [h("dt", null, "First invocation pays"), h("dd", { title: "the cold invocation's latency minus the warm median" }, d.firstInvocationExtraMs === null || d.firstInvocationExtraMs === undefined ? "–" : `+${fmt.duration(d.firstInvocationExtraMs)}`)]);
}

function phases(d: ColdStarts): HTMLElement {
  const parts = PHASES.map(([key, label], i) => ({ key, label, value: d.phasesMedianMs[key] ?? 0, color: palette[(i + 2) % palette.length] }));
  const total = parts.reduce((a, p) => a + p.value, 0);
  return section("Where a cold start's time goes (median per phase)",
    total > 0 ? [
      stackedBar(parts.map(p => ({ ...p, text: fmt.duration(p.value) })), total),
      h("ul", { class: "legend-list" }, parts.map(p => h("li", null, h("i", { style: `background:${p.color}` }), `${p.label}: `, h("strong", null, d.phasesMedianMs[p.key] === null || d.phasesMedianMs[p.key] === undefined ? "–" : fmt.duration(p.value))))),
      h("p", { class: "hint" }, "Runtime start and app init are the .NET split of init; “init (rest)” is what init spent outside them."),
    ] : h("p", { class: "muted" }, "no phase spans recorded"));
}

function tail(d: ColdStarts): HTMLElement {
  const t = d.tail;
  return section("What cold starts cost the tail", t ? h("dl", { class: "facts" },
    [h("dt", null, "p99 latency"), h("dd", null, fmt.duration(t.p99Ms))],
    [h("dt", null, "Cold among requests above p99"), h("dd", { "data-fact": "coldShareAboveP99" }, fmt.percent(t.coldShareAboveP99))],
    [h("dt", null, "p99 without cold starts"), h("dd", null, fmt.duration(t.p99WithoutColdMs))]) : h("p", { class: "muted" }, "not enough invocations"));
}

function comparison(c: Comparison): HTMLElement {
  const p = (x: { pValue: number } | null | undefined) => x ? `p = ${x.pValue < 0.001 ? "< 0.001" : x.pValue.toFixed(3)}` : "";
  return section(`Version ${c.to.version} against ${c.from.version}`,
    h("p", { class: c.regression ? "flag bad" : "flag good", role: "status", "data-regression": String(c.regression) },
      c.regression ? "⚠ Regression: " : "✓ No regression", c.regression ? (c.reasons ?? []).join("; ") : ""),
    table(["", c.from.version, c.to.version, "Change", "Test"], [
      ["Cold starts", fmt.count(c.from.coldStarts), fmt.count(c.to.coldStarts), "", ""],
      ["p95 init", fmt.duration(c.from.initP95Ms), fmt.duration(c.to.initP95Ms),
        c.initP95ChangeMs === null || c.initP95ChangeMs === undefined ? "–" : `${c.initP95ChangeMs >= 0 ? "+" : ""}${fmt.duration(Math.abs(c.initP95ChangeMs)).replace(/^/, c.initP95ChangeMs < 0 ? "−" : "")}`, p(c.initTest)],
      ["Cold-start rate", fmt.percent(c.from.coldStartRate), fmt.percent(c.to.coldStartRate),
        c.coldStartRateChange === null || c.coldStartRateChange === undefined ? "–" : `${c.coldStartRateChange >= 0 ? "+" : "−"}${(Math.abs(c.coldStartRateChange) * 100).toFixed(1)} pt`, p(c.rateTest)],
    ], { class: "data compare" }),
    h("p", { class: "hint" }, link(href("coldstarts", { function: c.function, version: c.to.version }), `See ${c.to.version} alone`)));
}

function profile(d: ColdStarts): HTMLElement {
  const p = d.profile;
  const list = (title: string, items: Contributor[]) => h("div", null, h("h4", null, title), items.length === 0 ? h("p", { class: "muted" }, "none") : table(
    ["Name", ["Time", "num"], ""], items.slice(0, 10).map(c => [h("code", { class: "wrap" }, c.name), fmt.duration(c.ms),
      h("span", { class: "mini-bar", style: `width:${(100 * c.ms / Math.max(items[0].ms, 1e-9)).toFixed(1)}%` })]), { class: "data profile" }));
  return section("Startup profile: what cost the most (.NET)", p && (p.assemblies.length > 0 || p.methods.length > 0)
    ? h("div", { class: "two-col" }, list("Assemblies (load time)", p.assemblies), list("Methods (JIT time)", p.methods))
    : h("p", { class: "muted" }, "No startup profile: it is read from the .NET runtime's events when the sidecar supervises a .NET function."));
}

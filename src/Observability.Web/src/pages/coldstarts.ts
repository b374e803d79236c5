import { get, optional, type FunctionRow, type List } from "../api";
import { palette, stackedBar, timeChart } from "../charts";
import { empty, h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { href, navigate, type Route } from "../router";
import { readAll, withCursor } from "../paging";
import { rangeOf, rangePicker } from "./functions";

// Shapes of /api/v1/coldstarts and /api/v1/coldstarts/compare (docs/collector.md; each number in docs/cold-start-analysis.md).
interface Percentiles { p50?: number | null; p95?: number | null; p99?: number | null }
interface Phase { phase: string; count: number; medianMs?: number | null }
interface Point { start: string; invocations: number; coldStarts: number; coldStartRate?: number | null; initP95Ms?: number | null; latencyP95Ms?: number | null }
/** A bucket of init durations: above the previous bucket's leMs and at most its own; no leMs: above the last bound (30 s). */
interface HistogramBucket { leMs?: number | null; count: number }
interface ProfileItem { name: string; coldStarts: number; totalMs: number; meanMs: number }
interface ColdStarts {
  name: string; version: string; start: string; end: string; invocations: number; coldStarts: number; coldStartRate?: number | null;
  pingColdStarts: number; records: number; initMs: Percentiles; initHistogram: HistogramBucket[]; phases: Phase[];
  firstInvocation: { coldMedianMs?: number | null; warmMedianMs?: number | null; extraMs?: number | null };
  tail: { p99Ms?: number | null; requestsAtOrAboveP99: number; coldShareAtOrAboveP99?: number | null; p99WithoutColdMs?: number | null };
  startupProfile: { records: number; profiled: number; assembliesLoaded?: number | null; jitMethods?: number | null; jitMs?: number | null;
    gcCount?: number | null; gcPauseMs?: number | null; topAssemblies: ProfileItem[]; topMethods: ProfileItem[] };
  series: { bucketSeconds: number; points: Point[] };
}
interface Side { version: string; records?: number; invocations?: number; coldStarts?: number; coldStartRate?: number | null; initP50Ms?: number | null; initP95Ms?: number | null }
interface TestResult { statistic?: number | null; z?: number | null; pValue?: number | null }
interface Comparison {
  function: string; from: Side; to: Side; regression: boolean; reasons?: string[] | null; rule?: string | null;
  initP95ChangeMs?: number | null; initP95ChangeRatio?: number | null; coldStartRateChange?: number | null;
  mannWhitney?: TestResult | null; twoProportion?: TestResult | null;
}

// Stacked in the order they happen; init's own share is what init spent outside its .NET children.
const PHASE_PARTS: [string, string, string][] = [
  ["spawn", "spawn", palette[5]], ["runtime_start", "runtime start", palette[3]], ["app_init", "app init", palette[0]],
  ["init_rest", "init", palette[6]], ["first_request", "first request", palette[1]],
];

/** Cold starts of one function: how often, how long, where the time goes, what changed between versions, what it costs the tail. */
export async function coldStartsPage(root: HTMLElement, route: Route): Promise<() => Promise<void>> {
  const functions = await readAll(cursor => get<List<FunctionRow>>("functions", withCursor({ limit: 500 }, cursor)));
  const names = [...new Set(functions.map(f => f.name))].sort();
  const fn = route.query.get("function") ?? [...functions].sort((a, b) => b.coldStarts - a.coldStarts)[0]?.name;
  const body = h("div");
  const go = (q: Record<string, string | undefined>) => navigate(href("coldstarts", { ...Object.fromEntries(route.query.entries()), ...q }));
  const fnSelect = h("select", { name: "function", "aria-label": "Function" }, names.map(n => h("option", { value: n, selected: n === fn }, n)));
  fnSelect.addEventListener("change", () => go({ function: fnSelect.value, version: undefined }));
  replace(root, h("div", { class: "page-head" }, h("h1", null, "Cold starts"),
    h("p", { class: "hint" }, "The first request a new function process serves. Warm-up pings are left out of the rates."),
    fn ? h("div", { class: "pickers" }, h("label", null, "Function ", fnSelect), rangePicker(route, "coldstarts", "24h")) : null), body);

  if (!fn) {
    replace(body, empty("No function has sent a span yet",
      h("p", null, "Cold starts show here once a sidecar supervises a function (see the Functions page for how to point one at this collector).")));
    return async () => {};
  }

  const load = async () => {
    const { start, end } = rangeOf(route, "24h");
    const versions = await readAll(cursor => get<List<ColdStarts>>("coldstarts", withCursor({ function: fn, start, end, buckets: 48, limit: 100 }, cursor)));
    const withCold = versions.filter(v => v.coldStarts > 0 || v.records > 0);
    const newest = withCold.length > 0 ? withCold[withCold.length - 1] : versions[versions.length - 1];
    const selected = versions.find(v => v.version === route.query.get("version")) ?? newest;
    // The selected version against the one before it; the oldest selected: the newest against the one before.
    const index = selected ? versions.indexOf(selected) : -1;
    const compare = versions.length > 1
      ? await optional<Comparison>("coldstarts/compare", { function: fn, to: index > 0 ? selected!.version : null }).catch(() => null)
      : null;
    replace(body, view(fn, versions, selected, compare, go));
  };
  await load();
  return load;
}

function view(fn: string, versions: ColdStarts[], d: ColdStarts | undefined, compare: Comparison | null, go: (q: Record<string, string | undefined>) => void): HTMLElement {
  if (!d) {
    return empty(`No invocation of ${fn} in this time range`, h("p", null, "Pick a longer time range, or send the function a request."));
  }
  const tabs = h("div", { class: "tabs", role: "tablist", "aria-label": "Version" }, versions.map(v => h("button", {
    type: "button", role: "tab", "aria-selected": String(v === d), class: v === d ? "tab active" : "tab", onclick: () => go({ version: v.version }),
  }, `v${v.version}`, h("small", null, ` ${fmt.count(v.coldStarts)} cold`))));
  const content: (HTMLElement | null)[] = [summary(d)];
  if (d.coldStarts === 0 && d.records === 0) {
    content.push(empty("No cold start in this time range",
      h("p", null, "A cold start is the first request a new function process serves. Run the function under the sidecar and send it a request; with ",
        h("code", null, "--idle-timeout"), " the sidecar stops an idle function, so the next request starts it cold.")));
  } else {
    // From the first bucket with invocations: a version born an hour ago should not be drawn as a day of nothing.
    const first = d.series.points.findIndex(p => p.invocations > 0);
    const points = first > 0 ? d.series.points.slice(first) : d.series.points;
    const x = points.map(p => new Date(p.start).getTime() / 1000);
    content.push(
      h("div", { class: "two-col" },
        section(`Cold-start rate and p95 init, per ${fmt.duration(d.series.bucketSeconds * 1000)}`, timeChart("cold-start rate and p95 init duration", x, [
          { label: "cold-start rate", values: points.map(p => p.coldStartRate ?? null), color: palette[0], scale: "%", format: v => fmt.percent(v, 0) },
          { label: "p95 init", values: points.map(p => p.initP95Ms ?? null), color: palette[1], scale: "ms", format: v => fmt.duration(v), dash: [6, 3] },
        ])),
        phases(versions, d)),
      h("div", { class: "two-col" }, distribution(versions, d), tail(d)),
      histograms(versions, d));
  }
  if (compare) content.push(comparison(compare));
  content.push(profile(d));
  return h("div", null, versions.length > 1 ? tabs : null, ...content);
}

function summary(d: ColdStarts): HTMLElement {
  const extra = d.firstInvocation.extraMs;
  return h("dl", { class: "facts big", "data-version": d.version },
    [h("dt", null, "Cold starts"), h("dd", { "data-fact": "coldStarts" }, fmt.count(d.coldStarts))],
    [h("dt", null, "Cold-start rate"), h("dd", { "data-fact": "coldStartRate" }, fmt.percent(d.coldStartRate), h("small", null, ` of ${fmt.count(d.invocations)}`))],
    [h("dt", null, "Init p50"), h("dd", { "data-fact": "initP50" }, fmt.duration(d.initMs.p50))],
    [h("dt", null, "Init p95"), h("dd", { "data-fact": "initP95" }, fmt.duration(d.initMs.p95))],
    [h("dt", null, "Init p99"), h("dd", { "data-fact": "initP99" }, fmt.duration(d.initMs.p99))],
    [h("dt", { title: "median latency of the invocations that paid a cold start, minus the warm median" }, "First invocation pays"),
      h("dd", { "data-fact": "firstInvocationExtra" }, extra === null || extra === undefined ? "–" : `+${fmt.duration(extra)}`,
        d.firstInvocation.warmMedianMs !== null && d.firstInvocation.warmMedianMs !== undefined ? h("small", null, ` over ${fmt.duration(d.firstInvocation.warmMedianMs)} warm`) : null)]);
}

function phaseParts(d: ColdStarts): { key: string; label: string; value: number; color: string }[] {
  const median = (name: string) => d.phases.find(p => p.phase === name)?.medianMs ?? 0;
  const split = median("runtime_start") + median("app_init");
  const values: Record<string, number> = {
    spawn: median("spawn"), runtime_start: median("runtime_start"), app_init: median("app_init"),
    init_rest: Math.max(0, median("init") - split), first_request: median("first_request"),
  };
  return PHASE_PARTS.map(([key, label, color]) => ({ key, label, value: values[key], color }));
}

function phases(versions: ColdStarts[], selected: ColdStarts): HTMLElement {
  const rows = versions.filter(v => v.phases.some(p => (p.medianMs ?? 0) > 0));
  const scale = Math.max(1e-9, ...rows.map(v => phaseParts(v).reduce((a, p) => a + p.value, 0)));
  return section("Where the time goes: median of each phase",
    rows.length === 0 ? h("p", { class: "muted" }, "No cold-start records (the sidecar writes one per cold start it sees).") : [
      h("div", { class: "phase-rows" }, rows.map(v => h("div", { class: "phase-row" + (v === selected ? " selected" : ""), "data-version": v.version },
        h("span", { class: "phase-label" }, `v${v.version}`),
        stackedBar(phaseParts(v).map(p => ({ ...p, text: fmt.duration(p.value) })), scale)))),
      h("ul", { class: "legend-list" }, PHASE_PARTS.map(([, label, color]) => h("li", null, h("i", { style: `background:${color}` }), label))),
      h("p", { class: "hint" }, "Runtime start and app init split init for .NET functions; “init” is the rest of it. Medians are taken per phase, so they need not add up to the median cold start."),
    ]);
}

/** The spread of init durations per version (p50, p95, p99 on one axis). */
function distribution(versions: ColdStarts[], selected: ColdStarts): HTMLElement {
  const rows = versions.filter(v => v.initMs.p50 !== null && v.initMs.p50 !== undefined);
  const max = Math.max(1e-9, ...rows.map(v => v.initMs.p99 ?? v.initMs.p95 ?? v.initMs.p50 ?? 0)) * 1.08;
  const at = (ms: number | null | undefined) => `${(100 * (ms ?? 0) / max).toFixed(2)}%`;
  return section("Init duration by version (p50, p95, p99)",
    rows.length === 0 ? h("p", { class: "muted" }, "No init durations recorded.") : [
      h("div", { class: "spread-rows" }, rows.map(v => h("div", { class: "spread-row" + (v === selected ? " selected" : ""), "data-version": v.version },
        h("span", { class: "phase-label" }, `v${v.version}`),
        h("div", { class: "spread", role: "img", "aria-label": `v${v.version}: p50 ${fmt.duration(v.initMs.p50)}, p95 ${fmt.duration(v.initMs.p95)}, p99 ${fmt.duration(v.initMs.p99)}` },
          h("span", { class: "spread-range", style: `left:${at(v.initMs.p50)};width:calc(${at(v.initMs.p99)} - ${at(v.initMs.p50)})` }),
          h("span", { class: "spread-mark p50", style: `left:${at(v.initMs.p50)}`, title: `p50 ${fmt.duration(v.initMs.p50)}` }),
          h("span", { class: "spread-mark p95", style: `left:${at(v.initMs.p95)}`, title: `p95 ${fmt.duration(v.initMs.p95)}` }),
          h("span", { class: "spread-mark p99", style: `left:${at(v.initMs.p99)}`, title: `p99 ${fmt.duration(v.initMs.p99)}` })),
        h("span", { class: "spread-text" }, `${fmt.duration(v.initMs.p50)} · ${fmt.duration(v.initMs.p95)} · ${fmt.duration(v.initMs.p99)}`)))),
      h("div", { class: "spread-axis" }, h("span", null, "0"), h("span", null, fmt.duration(max / 2)), h("span", null, fmt.duration(max))),
      h("div", { class: "spread-legend" }, [["p50", "#1d4ed8"], ["p95", "#d97706"], ["p99", "#dc2626"]].map(([label, color]) => h("span", null, h("i", { style: `background:${color}` }), label))),
    ]);
}

// The tallest bar of a histogram, in pixels (the column adds the count above and the bound below).
const BAR_PX = 110;

/** A bucket's bound as a short axis label: 10 ms, 2.5 s. */
const bound = (ms: number) => ms < 1000 ? `${ms} ms` : `${ms / 1000} s`;

/**
 * The init-duration distribution, one bar chart per version, in the buckets of faas_init_duration_seconds (the
 * same in Grafana's heatmap). Every bucket is drawn so versions line up; each chart's bars are scaled to its own
 * tallest, so a version with few cold starts still shows its shape; the counts are written on the bars.
 */
function histograms(versions: ColdStarts[], selected: ColdStarts): HTMLElement {
  const rows = versions.filter(v => v.initHistogram.some(b => b.count > 0));
  return section("Init-duration distribution by version",
    rows.length === 0 ? h("p", { class: "muted" }, "No init durations recorded.") : [
      h("div", { class: "hists" }, rows.map(v => {
        const max = Math.max(...v.initHistogram.map(b => b.count));
        const total = v.initHistogram.reduce((a, b) => a + b.count, 0);
        return h("figure", { class: "hist" + (v === selected ? " selected" : ""), "data-version": v.version },
          h("figcaption", null, h("strong", null, `v${v.version}`), ` · ${fmt.count(total)} cold start${Math.round(total) === 1 ? "" : "s"}`),
          h("div", { class: "hist-cols", role: "img", "aria-label": `v${v.version} init durations: ` + v.initHistogram.filter(b => b.count > 0)
            .map(b => `${fmt.count(b.count)} ${b.leMs === null || b.leMs === undefined ? "above 30 s" : `up to ${bound(b.leMs)}`}`).join(", ") },
          v.initHistogram.map((b, i) => {
            const label = b.leMs === null || b.leMs === undefined ? `>${bound(v.initHistogram[i - 1]?.leMs ?? 0)}` : `≤${bound(b.leMs)}`;
            const from = i === 0 ? "0" : bound(v.initHistogram[i - 1].leMs ?? 0);
            return h("div", { class: "hist-col", "data-count": String(b.count), "data-le": b.leMs === null || b.leMs === undefined ? "+Inf" : String(b.leMs),
              title: `${b.leMs === null || b.leMs === undefined ? `above ${from}` : `${from} – ${bound(b.leMs)}`}: ${fmt.count(b.count)}` },
              h("span", { class: "hist-count" }, b.count > 0 ? fmt.count(b.count) : ""),
              h("span", { class: "hist-bar", style: `height:${(b.count > 0 ? Math.max(2, BAR_PX * b.count / max) : 0).toFixed(1)}px` }),
              h("span", { class: "hist-label" }, label));
          })));
      })),
      h("p", { class: "hint" }, "Cold starts per init-duration bucket, the buckets of the faas_init_duration_seconds metric; each chart is scaled to its tallest bar."),
    ]);
}

function tail(d: ColdStarts): HTMLElement {
  const t = d.tail;
  return section("What cold starts cost the tail", t.p99Ms === null || t.p99Ms === undefined ? h("p", { class: "muted" }, "No invocations in this range.") : [
    h("dl", { class: "facts" },
      [h("dt", null, "p99 latency"), h("dd", { "data-fact": "p99" }, fmt.duration(t.p99Ms))],
      [h("dt", null, "p99 without cold starts"), h("dd", { "data-fact": "p99WithoutCold" }, fmt.duration(t.p99WithoutColdMs))],
      [h("dt", null, "Cold, of the requests at or above p99"), h("dd", { "data-fact": "coldShareAtOrAboveP99" }, fmt.percent(t.coldShareAtOrAboveP99), h("small", null, ` of ${fmt.count(t.requestsAtOrAboveP99)}`))]),
    h("p", { class: "hint" }, t.coldShareAtOrAboveP99 && t.coldShareAtOrAboveP99 > 0.5
      ? "Most of the slowest requests were cold: keeping instances warm would cut the tail."
      : "Most of the slowest requests were warm: the tail comes from the function's own work more than from cold starts."),
  ]);
}

function comparison(c: Comparison): HTMLElement {
  const pValue = (t: TestResult | null | undefined, name: string) => t?.pValue === null || t?.pValue === undefined ? "–" : `${name}, p ${t.pValue < 0.001 ? "< 0.001" : `= ${t.pValue.toFixed(3)}`}`;
  const signed = (v: number | null | undefined, f: (x: number) => string) => v === null || v === undefined ? "–" : `${v >= 0 ? "+" : "−"}${f(Math.abs(v))}`;
  return section(`Version comparison: v${c.to.version} against v${c.from.version}, over their life`,
    h("p", { class: c.regression ? "flag bad" : "flag good", role: "status", "data-regression": String(c.regression) },
      c.regression ? "Regression. " : "No regression. ", h("span", { class: "flag-reasons" }, (c.reasons ?? []).join("; "))),
    table(["", `v${c.from.version}`, `v${c.to.version}`, ["Change", "num"], "Test"], [
      ["Cold starts", fmt.count(c.from.coldStarts), fmt.count(c.to.coldStarts), "", ""],
      ["Init p50", fmt.duration(c.from.initP50Ms), fmt.duration(c.to.initP50Ms), "", ""],
      ["Init p95", fmt.duration(c.from.initP95Ms), fmt.duration(c.to.initP95Ms),
        signed(c.initP95ChangeMs, fmt.duration) + (c.initP95ChangeRatio !== null && c.initP95ChangeRatio !== undefined ? ` (${signed(c.initP95ChangeRatio, x => fmt.percent(x, 0))})` : ""),
        pValue(c.mannWhitney, "Mann-Whitney U")],
      ["Cold-start rate", fmt.percent(c.from.coldStartRate), fmt.percent(c.to.coldStartRate),
        signed(c.coldStartRateChange, x => `${(x * 100).toFixed(1)} pt`), pValue(c.twoProportion, "two-proportion z")],
    ], { class: "data compare", "data-table": "compare" }),
    c.rule ? h("p", { class: "hint" }, `The rule: ${c.rule}.`) : null);
}

function profile(d: ColdStarts): HTMLElement {
  const p = d.startupProfile;
  const list = (title: string, items: ProfileItem[]) => h("div", null, h("h4", null, title), items.length === 0 ? h("p", { class: "muted" }, "none") : table(
    ["Name", ["Mean", "num"], ["Cold starts", "num"], ""], items.slice(0, 8).map(c => [h("code", { class: "wrap" }, c.name), fmt.duration(c.meanMs), String(c.coldStarts),
      h("span", { class: "mini-bar", style: `width:${(100 * c.meanMs / Math.max(items[0].meanMs, 1e-9)).toFixed(1)}%` })]), { class: "data profile" }));
  return section(`Startup profile (.NET): what cost the most${p.profiled > 0 ? `, over ${p.profiled} of ${p.records} cold starts` : ""}`, p.profiled > 0
    ? [h("dl", { class: "facts" },
        [h("dt", null, "Assemblies loaded"), h("dd", null, fmt.count(p.assembliesLoaded))],
        [h("dt", null, "Methods JIT-compiled"), h("dd", null, fmt.count(p.jitMethods))],
        [h("dt", null, "JIT time"), h("dd", null, fmt.duration(p.jitMs))],
        [h("dt", null, "GCs"), h("dd", null, p.gcCount === null || p.gcCount === undefined ? "–" : p.gcCount.toFixed(1))],
        [h("dt", null, "GC pause"), h("dd", null, fmt.duration(p.gcPauseMs))]),
      h("div", { class: "two-col" }, list("Slowest assemblies to load", p.topAssemblies), list("Slowest methods to JIT-compile", p.topMethods))]
    : h("p", { class: "muted" }, "No startup profile: the sidecar reads it from the .NET runtime's events when it supervises a .NET function. ",
        link(href("traces", { name: "faas.coldstart" }), "See the cold-start records.")));
}

import { get, optional, type List, type Snapshot } from "../api";
import { empty, h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { href, type Route } from "../router";
import { rangeOf, rangePicker } from "./functions";

/** A failure group: snapshots that share a fingerprint (function + exception type + top frames, or trigger/status + route). */
export interface FailureGroup {
  fingerprint: string; function: string; exceptionType?: string | null; message?: string | null; frames?: string[] | null;
  trigger?: string | null; statusCode?: number | null; route?: string | null;
  count: number; firstSeen: string; lastSeen: string; versions: string[];
  latestSnapshotId?: string | null; latestSnapshot?: Snapshot | null; sampleTraceId?: string | null;
}

interface FailureGroupDetail extends FailureGroup { snapshots?: Snapshot[] }

/** Failure groups, newest first; /ui/failures/{fingerprint} lists one group's snapshots. */
export async function failuresPage(root: HTMLElement, route: Route): Promise<() => Promise<void>> {
  const fingerprint = route.params[0];
  const body = h("div");
  const fn = route.query.get("function");
  replace(root, h("div", { class: "page-head" },
    h("h1", null, fingerprint ? "Failure group" : "Failures", fn ? h("span", { class: "muted" }, ` · ${fn}`) : null),
    h("p", { class: "hint" }, fingerprint ? link(href("failures"), "← all groups") : "Failure snapshots grouped by what failed: the same exception at the same place, or the same status on the same route."),
    fingerprint ? null : rangePicker(route, "failures", "24h")), body);
  const load = async () => replace(body, fingerprint ? await group(fingerprint) : await groups(route));
  await load();
  return load;
}

async function groups(route: Route): Promise<HTMLElement> {
  const { start, end } = rangeOf(route, "24h");
  const fn = route.query.get("function");
  const found = await get<List<FailureGroup>>("failures", { start, end, function: fn, limit: 200 });
  if (found.items.length === 0) {
    return empty(fn ? `No failure of ${fn} in this time range` : "No failures in this time range",
      h("p", null, "The sidecar sends a snapshot when a request fails (a 5xx, a timeout, a crash, an unhandled exception). Pick a longer time range, or see docs/failure-snapshots.md for what is captured and how to turn on dumps."));
  }
  return section(`${found.items.length} group${found.items.length === 1 ? "" : "s"}`, table(
    ["What failed", "Function", ["Count", "num"], "Versions", "First seen", "Last seen", "Latest"],
    found.items.map(g => [
      link(href(`failures/${g.fingerprint}`), h("strong", null, title(g)), g.frames && g.frames.length > 0 ? h("span", { class: "frame" }, g.frames[0]) : null),
      g.function,
      fmt.count(g.count),
      g.versions.join(", "),
      fmt.time(g.firstSeen),
      h("span", { title: fmt.time(g.lastSeen) }, fmt.ago(g.lastSeen)),
      latest(g),
    ]), { class: "data", "data-table": "failures" }));
}

function title(g: FailureGroup): string {
  if (g.exceptionType) return g.exceptionType + (g.message ? `: ${g.message}` : "");
  return [g.trigger, g.statusCode ? `status ${g.statusCode}` : null, g.route].filter(Boolean).join(" · ") || g.fingerprint;
}

function latest(g: FailureGroup): HTMLElement | string {
  const id = g.latestSnapshotId ?? g.latestSnapshot?.id;
  return id ? link(href(`snapshots/${id}`), "snapshot") : g.sampleTraceId ? link(href(`traces/${g.sampleTraceId}`), "trace") : "–";
}

async function group(fingerprint: string): Promise<HTMLElement> {
  const g = await optional<FailureGroupDetail>(`failures/${encodeURIComponent(fingerprint)}`);
  if (!g) return empty("No such failure group", h("p", null, "It may have aged out with its snapshots. ", link(href("failures"), "See all groups.")));
  const snapshots = g.snapshots ?? [];
  return h("div", null,
    h("dl", { class: "facts" },
      [h("dt", null, "What failed"), h("dd", null, h("strong", { class: "bad" }, title(g)))],
      [h("dt", null, "Function"), h("dd", null, link(href("functions"), g.function))],
      [h("dt", null, "Count"), h("dd", null, fmt.count(g.count))],
      [h("dt", null, "Versions"), h("dd", null, g.versions.join(", "))],
      [h("dt", null, "First seen"), h("dd", null, fmt.time(g.firstSeen))],
      [h("dt", null, "Last seen"), h("dd", null, fmt.time(g.lastSeen))]),
    g.frames && g.frames.length > 0 ? section("Top frames (normalised)", h("pre", { class: "stack" }, g.frames.join("\n"))) : null,
    section(`Snapshots (${snapshots.length})`, snapshots.length === 0 ? h("p", { class: "muted" }, "none kept") : table(
      ["When", "Version", "Instance", "Trigger", "Trace", ""],
      snapshots.map(s => [fmt.time(s.time), s.functionVersion ?? "–", s.faasInstance ?? "–", s.trigger ?? s.snapshot?.trigger ?? "–",
        s.traceId ? link(href(`traces/${s.traceId}`), h("code", null, fmt.shortId(s.traceId))) : "–",
        s.id ? link(href(`snapshots/${s.id}`), "open snapshot") : "–"]), { class: "data", "data-table": "snapshots" })));
}

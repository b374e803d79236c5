import { get, optional, type FailureGroup, type FailureGroupDetail, type FailureGroups, type FailureSignature, type SnapshotSummary } from "../api";
import { empty, h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { pagedList, pageSize, withCursor, type PagedList } from "../paging";
import { href, type Route } from "../router";
import { rangeOf, rangePicker } from "./functions";

/** Failure groups, most recent first; /ui/failures/{fingerprint} lists one group's snapshots. */
export async function failuresPage(root: HTMLElement, route: Route): Promise<() => Promise<void>> {
  const fingerprint = route.params[0];
  const fn = route.query.get("function");
  const list = fingerprint ? group(fingerprint, route) : groups(route);
  replace(root, h("div", { class: "page-head" },
    h("h1", null, fingerprint ? "Failure group" : "Failures", fn && !fingerprint ? h("span", { class: "muted" }, ` · ${fn}`) : null),
    h("p", { class: "hint" }, fingerprint ? link(href("failures", { function: fn }), "← all groups")
      : "Failure snapshots grouped by what failed: the same exception at the same place, or the same status on the same route."),
    rangePicker(route, fingerprint ? `failures/${fingerprint}` : "failures", "24h")), list.element);
  await list.load();
  return list.load;
}

/** What a group is, in a line: the exception type, or the trigger and status on the route. */
export function what(s: FailureSignature): string {
  if (s.exceptionType) return s.exceptionType;
  return [s.trigger, s.statusCode ? `status ${s.statusCode}` : null, s.route].filter(Boolean).join(" · ") || "failure";
}

function truncatedNote(scanned: number, truncated: boolean): HTMLElement | null {
  return truncated ? h("p", { class: "hint" }, `Only the newest ${fmt.count(scanned)} snapshots of this range were grouped: narrow the range to see older ones.`) : null;
}

function groups(route: Route): PagedList {
  const fn = route.query.get("function");
  return pagedList<FailureGroup, FailureGroups>({
    start: () => {
      const { start, end } = rangeOf(route, "24h");
      const query = { start, end, function: fn, limit: pageSize(route, 50) };
      return cursor => get<FailureGroups>("failures", withCursor(query, cursor));
    },
    key: g => g.fingerprint,
    render: (items, last, more) => groupsView(route, items, last, more),
    noun: ["group", "groups"],
  });
}

function groupsView(route: Route, items: FailureGroup[], found: FailureGroups, more: HTMLElement): HTMLElement {
  const fn = route.query.get("function");
  if (items.length === 0) {
    return empty(fn ? `No failure of ${fn} in this time range` : "No failures in this time range",
      h("p", null, "The sidecar sends a failure snapshot when a request fails: a 5xx, a timeout, a refused connection, a crash, an unhandled exception. Pick a longer time range, or see docs/failure-snapshots.md for what is captured."));
  }
  return section(`${items.length} group${items.length === 1 ? "" : "s"} from ${fmt.count(found.scanned)} snapshot${found.scanned === 1 ? "" : "s"}`,
    truncatedNote(found.scanned, found.truncated),
    table(["What failed", "Function", ["Count", "num"], "Versions", "First seen", "Last seen", "Open"],
      items.map(g => [
        h("div", null, link(href(`failures/${g.fingerprint}`, { function: route.query.get("function") }), h("strong", { class: "bad" }, what(g.signature))),
          g.latestMessage ? h("div", { class: "message" }, g.latestMessage) : null,
          g.signature.frames && g.signature.frames.length > 0 ? h("div", { class: "frame" }, g.signature.frames[0]) : null),
        g.signature.function,
        fmt.count(g.count),
        g.versions.join(", "),
        fmt.time(g.firstSeen),
        h("span", { title: fmt.time(g.lastSeen) }, fmt.ago(g.lastSeen)),
        h("span", { class: "row-links" }, link(href(`snapshots/${g.latestSnapshotId}`), "latest snapshot"),
          g.sampleTraceId ? [" · ", link(href(`traces/${g.sampleTraceId}`), "trace")] : null),
      ]), { class: "data", "data-table": "failures" }), more);
}

function group(fingerprint: string, route: Route): PagedList {
  return pagedList<SnapshotSummary, FailureGroupDetail>({
    start: () => {
      const { start, end } = rangeOf(route, "24h");
      const query = { start, end, limit: pageSize(route, 50) };
      return cursor => optional<FailureGroupDetail>(`failures/${encodeURIComponent(fingerprint)}`, withCursor(query, cursor));
    },
    key: x => x.id,
    render: (items, last, more) => groupView(items, last, more),
    noun: ["snapshot", "snapshots"],
    missing: () => empty("No snapshot of this group in this time range", h("p", null, "Pick a longer time range, or ", link(href("failures"), "see all groups"), ".")),
  });
}

function groupView(items: SnapshotSummary[], d: FailureGroupDetail, more: HTMLElement): HTMLElement {
  const g: FailureGroup = d.group;
  const s = g.signature;
  return h("div", null,
    h("dl", { class: "facts" },
      [h("dt", null, "What failed"), h("dd", null, h("strong", { class: "bad" }, what(s)))],
      [h("dt", null, "Function"), h("dd", null, link(href("coldstarts", { function: s.function }), s.function))],
      [h("dt", null, "Count"), h("dd", { "data-fact": "count" }, fmt.count(g.count))],
      // Version names are often bare numbers: set them as code, so "2" beside the count reads as a version.
      [h("dt", null, g.versions.length === 1 ? "Version" : "Versions"),
        h("dd", null, ...g.versions.flatMap((v, i) => [i > 0 ? ", " : null, h("code", null, v || "–")]))],
      [h("dt", null, "First seen"), h("dd", null, fmt.time(g.firstSeen))],
      [h("dt", null, "Last seen"), h("dd", null, fmt.time(g.lastSeen))],
      [h("dt", null, "Fingerprint"), h("dd", null, h("code", null, g.fingerprint))]),
    g.latestMessage ? h("p", { class: "message" }, g.latestMessage) : null,
    s.frames && s.frames.length > 0 ? section("Top frames, as grouped (line numbers and generated names normalised)", h("pre", { class: "stack" }, s.frames.join("\n"))) : null,
    section(items.length < g.count ? `Snapshots (${fmt.count(items.length)} of ${fmt.count(g.count)})` : `Snapshots (${fmt.count(items.length)})`, truncatedNote(d.scanned, d.truncated), table(
      ["When", "Version", "Instance", "Trigger", ["Status", "num"], "Trace", ""],
      items.map(x => [fmt.time(x.time), x.version ?? "–", x.instance ?? "–", x.trigger ?? "–", x.statusCode ? String(x.statusCode) : "–",
        x.traceId ? link(href(`traces/${x.traceId}`, { span: x.spanId ?? undefined }), h("code", null, fmt.shortId(x.traceId))) : "–",
        link(href(`snapshots/${x.id}`), "open snapshot")]), { class: "data", "data-table": "snapshots" }), more));
}

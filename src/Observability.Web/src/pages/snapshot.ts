import { get, type SnapshotBody, type SnapshotDetail } from "../api";
import { h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { href, type Route } from "../router";
import { what } from "./failures";

/** One failure snapshot, every part of it: what the sidecar saw when the request failed. */
export async function snapshotPage(root: HTMLElement, route: Route): Promise<void> {
  const id = route.params[0];
  replace(root, view(await get<SnapshotDetail>(`snapshots/${encodeURIComponent(id)}`)));
}

function kv(values: Record<string, unknown> | undefined | null, label: string): HTMLElement {
  const keys = Object.keys(values ?? {}).sort();
  return keys.length === 0 ? h("p", { class: "muted" }, "none")
    : table(["Name", "Value"], keys.map(k => [h("code", null, k), h("span", { class: "wrap" }, typeof values![k] === "string" ? values![k] as string : JSON.stringify(values![k]))]), { class: "kv", "aria-label": label });
}

const PROCESS_LABELS: Record<string, string> = {
  pid: "PID", uptimeSeconds: "Uptime", rssBytes: "Resident memory (RSS)", cpuSeconds: "CPU time", threads: "Threads",
  exitCode: "Exit code", gcHeapBytes: "GC heap", gcCount: "GCs",
};

function processState(p: Record<string, unknown> | undefined): HTMLElement {
  if (!p) return h("p", { class: "muted" }, "not captured");
  const rows = Object.entries(p).map(([k, v]) => [
    h("span", { title: k }, PROCESS_LABELS[k] ?? k),
    typeof v !== "number" ? String(v) : k.endsWith("Bytes") ? fmt.bytes(v) : k.endsWith("Seconds") ? fmt.duration(v * 1000) : String(v),
  ]);
  return table(["What", "Value"], rows, { class: "kv", "aria-label": "Process state" });
}

function body(m: { body?: string; bodyBytes?: number; bodyOmitted?: string; bodyTruncated?: boolean }): HTMLElement {
  if (m.body) return h("div", null, h("pre", { class: "body" }, m.body), m.bodyTruncated ? h("p", { class: "muted" }, `the first part of ${fmt.bytes(m.bodyBytes)}`) : null);
  if (m.bodyOmitted) return h("p", { class: "muted" }, `Left out: ${m.bodyOmitted} (${fmt.bytes(m.bodyBytes)}); the redactor keeps only what it can read.`);
  return h("p", { class: "muted" }, m.bodyBytes ? `${fmt.bytes(m.bodyBytes)}, not captured` : "empty");
}

function exceptions(s: SnapshotBody): HTMLElement {
  const list = s.exceptions ?? [];
  const how: Record<string, string> = {
    trace: "Logged by the app with this request's trace id.",
    only_request: "Thrown while this was the only request in flight.",
    uncertain: `Thrown while ${s.concurrentRequests ?? "other"} other request(s) ran too: any of them may have thrown it.`,
  };
  if (list.length === 0) {
    return section("Exception", h("p", { class: "muted" }, "The runtime reported no exception for this request",
      s.error ? ["; the sidecar saw: ", h("code", null, s.error)] : "."));
  }
  return section(list.length === 1 ? "Exception" : `Exceptions (${list.length})`,
    s.exceptionsMatch ? h("p", { class: "hint" }, how[s.exceptionsMatch] ?? s.exceptionsMatch) : null,
    list.map(e => h("div", { class: "exception" },
      h("p", { class: "exception-head" }, h("strong", { class: "bad" }, e.type ?? "exception"), e.message ? `: ${e.message}` : ""),
      e.stackTrace ? h("pre", { class: "stack" }, e.stackTrace) : h("p", { class: "muted" }, "No stack trace: the app did not log this exception."))));
}

function view(d: SnapshotDetail): HTMLElement {
  const s = d.snapshot;
  const x = d.summary;
  const dump = d.dump;
  const traceHref = x.traceId ? href(`traces/${x.traceId}`, { span: x.spanId ?? undefined }) : null;
  return h("div", { class: "snapshot" },
    h("div", { class: "page-head" },
      h("h1", null, h("span", { class: "svc" }, x.function), " ", what(d.signature), " ", h("span", { class: "badge bad" }, x.trigger ?? "failure")),
      h("p", { class: "hint" }, link(href(`failures/${d.fingerprint}`), "← its group"), " · ", link(href("failures"), "all failures"))),
    h("dl", { class: "facts" },
      [h("dt", null, "When"), h("dd", null, fmt.time(x.time))],
      [h("dt", null, "Version"), h("dd", null, x.version ?? "–")],
      [h("dt", null, "Instance"), h("dd", null, x.instance ?? "–")],
      [h("dt", null, "Status"), h("dd", null, x.statusCode ? String(x.statusCode) : "–")],
      [h("dt", null, "Trace"), h("dd", null, traceHref ? link(traceHref, "open the trace ", h("code", null, fmt.shortId(x.traceId!))) : "–")],
      [h("dt", null, "Dump"), h("dd", { class: "dump" }, !dump ? "none (turn on DumpOnFailure)" : dump.downloadable
        ? h("a", { href: `/api/v1/snapshots/${encodeURIComponent(x.id)}/dump`, download: true }, `download ${dump.kind ?? ""} dump (${fmt.bytes(dump.bytes)})`)
        : h("span", { title: dump.reason }, dump.path ? [h("code", null, dump.path), ` on ${dump.instance ?? "the function's host"}`, dump.bytes ? ` (${fmt.bytes(dump.bytes)})` : ""] : dump.error ?? dump.reason))]),
    dump && !dump.downloadable ? h("p", { class: "hint" }, dump.reason) : null,
    exceptions(s),
    s.grpc ? section("gRPC", h("p", null, `status ${s.grpc.status ?? ""} (${s.grpc.statusCode ?? "?"})${s.grpc.message ? `: ${s.grpc.message}` : ""}`)) : null,
    h("div", { class: "two-col" },
      section("Request", s.request ? [
        h("p", null, h("code", null, `${s.request.method ?? ""} ${s.request.url ?? ""}`), h("span", { class: "muted" }, ` ${s.request.protocol ?? ""}`)),
        h("h4", null, "Headers"), kv(s.request.headers, "Request headers"), h("h4", null, "Body"), body(s.request)]
        : h("p", { class: "muted" }, "No request: this failure was not a request's.")),
      section("Response", s.response ? [
        h("p", null, "Status ", h("strong", { class: (s.response.status ?? 0) >= 500 ? "bad" : null }, String(s.response.status ?? "–")), s.error ? [" · ", h("code", null, s.error)] : null),
        h("h4", null, "Headers"), kv(s.response.headers, "Response headers"), h("h4", null, "Body"), body(s.response)]
        : h("p", { class: "muted" }, "No response was sent", s.error ? [": ", h("code", null, s.error)] : "."))),
    section(`Log lines (${(s.logs ?? []).length})`, (s.logs ?? []).length > 0
      ? h("pre", { class: "logs" }, (s.logs ?? []).join("\n"))
      : h("p", { class: "muted" }, "None captured (in attach mode the sidecar cannot read the function's output).")),
    h("div", { class: "two-col" },
      section("Process", processState(s.process)),
      section("Environment", h("p", { class: "hint" }, "Masked (***) where the sidecar's redactor took a value for a secret, before the snapshot left the host."), kv(s.environment, "Environment"))));
}

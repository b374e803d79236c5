import { get, type Snapshot, type SnapshotBody } from "../api";
import { h, link, replace, section, table } from "../dom";
import * as fmt from "../format";
import { href, type Route } from "../router";

/** One failure snapshot, every part of it: what the sidecar saw when the request failed. */
export async function snapshotPage(root: HTMLElement, route: Route): Promise<void> {
  const id = route.params[0];
  const snapshot = await get<Snapshot>(`snapshots/${encodeURIComponent(id)}`);
  replace(root, snapshotView(snapshot, id));
}

function kv(values: Record<string, unknown> | undefined | null, label: string): HTMLElement {
  const keys = Object.keys(values ?? {}).sort();
  return keys.length === 0 ? h("p", { class: "muted" }, "none")
    : table(["Name", "Value"], keys.map(k => [h("code", null, k), h("span", { class: "wrap" }, typeof values![k] === "string" ? values![k] as string : JSON.stringify(values![k]))]), { class: "kv", "aria-label": label });
}

function body(m: { body?: string; bodyBytes?: number; bodyOmitted?: string; bodyTruncated?: boolean }): HTMLElement | null {
  if (m.body) return h("div", null, h("pre", { class: "body" }, m.body), m.bodyTruncated ? h("p", { class: "muted" }, `first part of ${fmt.bytes(m.bodyBytes)}`) : null);
  if (m.bodyOmitted) return h("p", { class: "muted" }, `Body left out: ${m.bodyOmitted} (${fmt.bytes(m.bodyBytes)})`);
  return m.bodyBytes ? h("p", { class: "muted" }, `${fmt.bytes(m.bodyBytes)} body`) : h("p", { class: "muted" }, "no body");
}

export function exceptionsView(s: SnapshotBody): HTMLElement {
  const exceptions = s.exceptions ?? [];
  const how: Record<string, string> = {
    trace: "logged by the app with this request's trace id",
    only_request: "thrown while this was the only request in flight",
    uncertain: `thrown while ${s.concurrentRequests ?? "other"} other request(s) ran too: any of them may have thrown it`,
  };
  if (exceptions.length === 0) return section("Exception", h("p", { class: "muted" }, s.error ? "No exception was reported by the runtime; the sidecar saw: " : "No exception was reported by the runtime for this request.", s.error ? h("code", null, s.error) : null));
  return section(exceptions.length === 1 ? "Exception" : `Exceptions (${exceptions.length})`,
    s.exceptionsMatch ? h("p", { class: "hint" }, how[s.exceptionsMatch] ?? s.exceptionsMatch) : null,
    exceptions.map(e => h("div", { class: "exception" },
      h("p", { class: "exception-head" }, h("strong", { class: "bad" }, e.type ?? "exception"), e.message ? `: ${e.message}` : "", e.time ? h("span", { class: "muted" }, ` at ${fmt.time(e.time)}`) : null),
      e.stackTrace ? h("pre", { class: "stack" }, e.stackTrace) : h("p", { class: "muted" }, "no stack trace (the app did not log this exception)"))));
}

export function snapshotView(snapshot: Snapshot, id: string): HTMLElement {
  const s = snapshot.snapshot;
  const fn = s.function ?? {};
  const traceId = snapshot.traceId ?? s.traceId;
  const spanId = snapshot.spanId ?? s.spanId;
  const dumpUrl = snapshot.dumpUrl ?? (s.dump?.path && !s.dump.error ? `/api/v1/snapshots/${encodeURIComponent(id)}/dump` : null);
  return h("div", { class: "snapshot" },
    h("div", { class: "page-head" },
      h("h1", null, "Failure of ", h("span", { class: "svc" }, snapshot.functionName ?? fn.name ?? snapshot.serviceName), " ", h("span", { class: "badge bad" }, s.trigger ?? snapshot.trigger ?? "failure")),
      h("p", { class: "hint" }, link(href("failures", { function: snapshot.functionName ?? undefined }), "← failures"))),
    h("dl", { class: "facts" },
      [h("dt", null, "When"), h("dd", null, fmt.time(snapshot.time))],
      [h("dt", null, "Version"), h("dd", null, snapshot.functionVersion ?? fn.version ?? "–")],
      [h("dt", null, "Instance"), h("dd", null, snapshot.faasInstance ?? fn.instance ?? "–")],
      [h("dt", null, "Trace"), h("dd", null, traceId ? link(href(`traces/${traceId}`, { span: spanId ?? undefined }), "open the trace ", h("code", null, fmt.shortId(traceId))) : "–")],
      [h("dt", null, "Dump"), h("dd", null, dumpUrl ? h("a", { href: dumpUrl, download: true }, `download ${s.dump?.kind ?? ""} dump (${fmt.bytes(s.dump?.bytes)})`) : s.dump?.error ? h("span", { class: "muted" }, s.dump.error) : "none")]),
    exceptionsView(s),
    s.error || s.grpc ? section("What the sidecar saw",
      s.error ? h("p", null, h("code", null, s.error)) : null,
      s.grpc ? h("p", null, `gRPC status ${s.grpc.status ?? ""} (${s.grpc.statusCode ?? "?"})${s.grpc.message ? `: ${s.grpc.message}` : ""}`) : null) : null,
    h("div", { class: "two-col" },
      section("Request",
        s.request ? [h("p", null, h("code", null, `${s.request.method ?? ""} ${s.request.url ?? ""}`), h("span", { class: "muted" }, ` ${s.request.protocol ?? ""}`)),
          h("h4", null, "Headers"), kv(s.request.headers, "Request headers"), h("h4", null, "Body"), body(s.request)] : h("p", { class: "muted" }, "no request (the failure was not a request's)")),
      section("Response",
        s.response ? [h("p", null, "Status ", h("strong", { class: (s.response.status ?? 0) >= 500 ? "bad" : null }, String(s.response.status ?? "–"))),
          h("h4", null, "Headers"), kv(s.response.headers, "Response headers"), h("h4", null, "Body"), body(s.response)] : h("p", { class: "muted" }, "no response was sent"))),
    section(`Log lines (${(s.logs ?? []).length})`, (s.logs ?? []).length > 0 ? h("pre", { class: "logs" }, (s.logs ?? []).join("\n")) : h("p", { class: "muted" }, "none captured (attach mode cannot read the function's output)")),
    h("div", { class: "two-col" },
      section("Process", kv(s.process, "Process state")),
      section("Environment", h("p", { class: "hint" }, "Values that look like secrets were masked by the sidecar's redactor before the snapshot left the machine."), kv(s.environment, "Environment"))));
}

// The collector's query API (/api/v1, read key). The browser sends the key itself: it asked for it once on
// the collector's Basic challenge and repeats it for every request to the same realm.

export interface List<T> { items: T[]; next?: string | null }

export class ApiError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export function queryString(q: Query): string {
  const p = new URLSearchParams();
  for (const [k, v] of Object.entries(q)) if (v !== null && v !== undefined && v !== "" && v !== false) p.set(k, String(v));
  const s = p.toString();
  return s ? `?${s}` : "";
}

export async function get<T>(path: string, q: Query = {}): Promise<T> {
  const response = await fetch(`/api/v1/${path}${queryString(q)}`, { headers: { Accept: "application/json" }, credentials: "same-origin" });
  if (!response.ok) {
    let reason = response.statusText;
    try { reason = (await response.json()).error ?? reason; } catch { /* not JSON */ }
    if (response.status === 401) reason = "The collector wants its read key: reload the page and enter it as the password (any user name).";
    throw new ApiError(response.status, reason);
  }
  return await response.json() as T;
}

/** An endpoint this collector does not have (an older build): null instead of an error. */
export async function optional<T>(path: string, q: Query = {}): Promise<T | null> {
  try { return await get<T>(path, q); } catch (e) { if (e instanceof ApiError && e.status === 404) return null; throw e; }
}

// ---- shapes (docs/collector.md) ----

export interface FunctionRange {
  invocations: number; errors: number; errorRate?: number | null; coldStarts: number; coldStartRate?: number | null;
  warmUpPings: number; p95LatencyMs?: number | null;
}

export interface FunctionRow {
  name: string; version: string; firstSeen: string; lastSeen: string;
  invocations: number; errors: number; coldStarts: number; warmUps: number; instances: string[];
  /** What happened within the range asked for (newer collectors). */
  range?: FunctionRange | null; lastInvoked?: string | null; idleSeconds?: number | null;
  warmUp?: { policy?: string | null; instances?: number | null; budgetPerHour?: number | null; url?: string | null; source?: string | null;
    pings?: { warm: number; cold: number; failed: number; lastSent?: string | null } | null } | null;
}

export interface TraceSummary {
  traceId: string; rootService: string; rootName: string; startTime: string; durationNanos: number;
  spanCount: number; errorCount: number; services: string[];
}

export interface SpanFunction { name: string; version?: string; instance?: string; trigger?: string; invocationId?: string; coldStart?: boolean }
export interface SpanEvent { name: string; timeUnixNano: string | number; attributes?: Record<string, unknown> }
export interface SpanLink { traceId: string; spanId: string; traceState?: string; attributes?: Record<string, unknown> }

export interface Span {
  traceId: string; spanId: string; parentSpanId?: string | null; depth: number; name: string; kind: string;
  startTime: string; startTimeUnixNano: string; durationNanos: number; status: { code: string; message?: string | null };
  service: string; scopeName?: string | null; function?: SpanFunction | null; warmUp: boolean;
  attributes: Record<string, unknown>; resource: Record<string, unknown>; events: SpanEvent[]; links: SpanLink[];
}

export interface Trace { traceId: string; startTime: string; durationNanos: number; spanCount: number; errorCount: number; services: string[]; spans: Span[] }

export interface Service { name: string; lastSeen: string; spanCount: number }

export interface SnapshotBody {
  trigger?: string; time?: string; traceId?: string; spanId?: string;
  function?: { name?: string; version?: string; instance?: string };
  request?: { method?: string; url?: string; protocol?: string; headers?: Record<string, string>; body?: string; bodyBytes?: number; bodyOmitted?: string; bodyTruncated?: boolean };
  response?: { status?: number; headers?: Record<string, string>; body?: string; bodyBytes?: number; bodyOmitted?: string; bodyTruncated?: boolean };
  error?: string; grpc?: { statusCode?: number; status?: string; message?: string };
  exceptionsMatch?: string; concurrentRequests?: number;
  exceptions?: { time?: string; type?: string; message?: string; stackTrace?: string | null; threadId?: number }[];
  logs?: string[]; process?: Record<string, unknown>; environment?: Record<string, string>;
  dump?: { kind?: string; path?: string; bytes?: number; error?: string };
}

export interface FailureSignature {
  function: string; exceptionType?: string | null; frames?: string[] | null; trigger?: string | null; statusCode?: number | null; route?: string | null;
}

export interface SnapshotSummary {
  id: string; time: string; traceId?: string | null; spanId?: string | null; function: string; version?: string | null; instance?: string | null;
  trigger?: string | null; statusCode?: number | null; exceptionType?: string | null; exceptionMessage?: string | null;
}

export interface FailureGroup {
  fingerprint: string; signature: FailureSignature; count: number; firstSeen: string; lastSeen: string; versions: string[];
  latestSnapshotId: string; sampleTraceId?: string | null; latestMessage?: string | null;
}

export interface FailureGroups { items: FailureGroup[]; next?: string | null; scanned: number; truncated: boolean }

export interface FailureGroupDetail { group: FailureGroup; items: SnapshotSummary[]; next?: string | null; scanned: number; truncated: boolean }

export interface SnapshotDetail {
  summary: SnapshotSummary; fingerprint: string; signature: FailureSignature; traceLink?: string | null; uiTraceLink?: string | null;
  serviceName: string; attributes: Record<string, unknown>; snapshot: SnapshotBody;
  dump?: { id?: string | null; kind?: string | null; path?: string | null; bytes?: number | null; error?: string | null; instance?: string | null; downloadable: boolean; reason: string } | null;
}

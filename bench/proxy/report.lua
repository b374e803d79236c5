-- wrk script for bench/proxy/run.sh: prints one machine-readable line at the end of a run.
-- Without WRK_DELAY_MS only done() is defined, so wrk keeps its fast path (a static request, no Lua per
-- request). With WRK_DELAY_MS=N every connection waits N ms after each response before its next request:
-- a paced load well below saturation (wrk measures each request from its send, so the wait is not in it).
local pace = tonumber(os.getenv("WRK_DELAY_MS") or "")
if pace then
  delay = function() return pace end
end

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "RESULT requests=%d duration_us=%d p50_us=%d p99_us=%d max_us=%d errors=%d\n",
    summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), latency.max,
    e.connect + e.read + e.write + e.status + e.timeout))
end

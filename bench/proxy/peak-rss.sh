#!/usr/bin/env bash
# Peak VmRSS of one obs-sidecar binary under load, for A/B comparisons of two builds on the same machine:
#   bash bench/proxy/peak-rss.sh artifacts/obs-sidecar/obs-sidecar 31000
#   bash bench/proxy/peak-rss.sh /tmp/old-sidecar/obs-sidecar 32000
# Starts the sidecar in supervise mode in front of HelloFunction (Release build) on PORT, PORT+1 (admin) and PORT+2
# (the function), no export; 3 s of wrk -t2 -c32 to warm up, then 8 s measured while VmRSS is sampled every 100 ms.
set -euo pipefail
bin=$1 port=$2
cd "$(dirname "$0")/../.."
"$bin" --name rss --port "$port" --admin-port $((port + 1)) --upstream-port $((port + 2)) --Logging:LogLevel:Default=Warning \
  -- dotnet samples/HelloFunction/bin/Release/net10.0/HelloFunction.dll >/dev/null 2>&1 &
pid=$!
trap 'kill -TERM $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$port/hello" >/dev/null && break; sleep 0.1; done
wrk -t2 -c32 -d3s "http://127.0.0.1:$port/hello" >/dev/null
out=$(mktemp)
wrk -t2 -c32 -d8s "http://127.0.0.1:$port/hello" >"$out" &
load=$!
max=0
while kill -0 $load 2>/dev/null; do
  rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status)
  [ "$rss" -gt "$max" ] && max=$rss
  sleep 0.1
done
echo "$bin: peak VmRSS $((max / 1024)) MB, $(awk '/Requests\/sec/ {print $2}' "$out") req/s"
rm -f "$out"

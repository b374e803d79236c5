#!/usr/bin/env bash
# Collector analysis benchmark: the analysis API (functions, cold starts, version comparison, failure groups, snapshots)
# on a day of 1M stored spans, against trace-by-id. See docs/benchmarks.md.
#   bash bench/analysis.sh [--spans N] [--queries N] [--durable]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Observability.Bench -c Release -v quiet -nologo >&2
dotnet run -c Release --no-build --project bench/Observability.Bench -- analysis "$@"

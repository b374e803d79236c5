#!/usr/bin/env bash
# Collector query benchmark: attribute search on 1M stored spans against trace-by-id. See docs/benchmarks.md.
#   bash bench/query.sh [--spans N] [--queries N] [--durable]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Observability.Bench -c Release -v quiet -nologo >&2
dotnet run -c Release --no-build --project bench/Observability.Bench -- query "$@"

#!/usr/bin/env bash
# Collector storage benchmark: bytes on disk per span and per million spans, with the attribute index off and on,
# and the ingest rate of each run. See docs/benchmarks.md ("Collector storage").
#   bash bench/storage.sh [--spans N] [--durable]
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Observability.Bench -c Release -v quiet -nologo >&2
dotnet run -c Release --no-build --project bench/Observability.Bench -- storage "$@"

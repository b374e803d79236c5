#!/usr/bin/env bash
# Collector ingest benchmark: raw COPY against the collector end to end. See docs/benchmarks.md.
#   bash bench/ingest.sh [--spans N] [--clients N] [--writers N] [--raw-connections N] [--profile] [--json]  (--help for all)
set -euo pipefail
cd "$(dirname "$0")/.."
dotnet build bench/Observability.Bench -c Release -v quiet -nologo >&2
dotnet run -c Release --no-build --project bench/Observability.Bench -- "$@"

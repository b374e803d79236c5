#!/usr/bin/env bash
# Redaction cost per failure snapshot (a 4 KiB JSON request and response body, headers, URL, 50 log lines,
# 40 environment variables), measured against building and encoding the same snapshot without redaction in the
# same run. A measurement, not a test: exits 0 whatever the numbers. Options: --rounds N --iterations N.
set -euo pipefail
cd "$(dirname "$0")/../.."
dotnet run -c Release --project bench/redaction/RedactionBench -- "$@"

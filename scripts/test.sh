#!/usr/bin/env bash
# Runs every test: installs what they need, builds with warnings as errors, runs the test projects,
# and closes with one line "N passed, N failed, N skipped".
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/ensure-deps.sh
dotnet build Observability.sln -c Release -warnaserror -nologo -clp:ErrorsOnly
# Code style as .editorconfig says it (fix with: dotnet format Observability.sln).
dotnet format Observability.sln --verify-no-changes --no-restore

# The sidecar's tests run against obs-sidecar as it ships: natively compiled (Native AOT).
dotnet publish agents/Observability.Sidecar.Cli -c Release -r linux-x64 -o artifacts/obs-sidecar -nologo -clp:ErrorsOnly
export OBS_SIDECAR="$PWD/artifacts/obs-sidecar/obs-sidecar"

log=$(mktemp)
status=0
# The sidecar's tests time cold starts to the millisecond: they run alone, then the other test projects run in
# parallel (a solution filter of every tests/*.Tests project but the sidecar's).
dotnet test tests/Observability.Sidecar.Tests -c Release --no-build -nologo 2>&1 | tee "$log" || status=$?
others=$(ls tests/*/*.Tests.csproj | grep -v Observability.Sidecar.Tests | sed 's/.*/"&"/' | paste -sd, -)
echo "{\"solution\": {\"path\": \"../Observability.sln\", \"projects\": [${others}]}}" > artifacts/tests.slnf
dotnet test artifacts/tests.slnf -c Release --no-build -nologo 2>&1 | tee -a "$log" || status=$?

read -r passed failed skipped < <(awk '
  /(Passed|Failed)!.*Failed:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:") f += $(i+1); if ($i == "Passed:") p += $(i+1); if ($i == "Skipped:") s += $(i+1)
    }
  }
  END { print p+0, f+0, s+0 }' <(tr -d ',' < "$log"))
rm -f "$log"
echo "tests: ${passed} passed, ${failed} failed, ${skipped} skipped"
if [ "$status" -eq 0 ] && [ "$passed" -eq 0 ]; then
  echo "No test ran." >&2
  exit 1
fi
exit "$status"

#!/usr/bin/env bash
# Warm-up policy benchmark: the simulator on a seeded synthetic trace at a 10-minute (Lambda-like) and a 1-minute
# (scale-to-zero) keep-alive, for none, fixed (5 min), idle and histogram. See docs/warm-up.md and docs/benchmarks.md.
#   bash bench/warmup/run.sh [--functions N] [--days D] [--seed S] [--out DIR]
# Writes the tables to the terminal and, per run, JSON and an SVG chart to DIR (default bench/warmup/results).
set -euo pipefail
cd "$(dirname "$0")/../.."

functions=1000 days=7 seed=1 out=bench/warmup/results
while [[ $# -gt 0 ]]; do
  case "$1" in
    --functions) functions="$2"; shift 2 ;;
    --days) days="$2"; shift 2 ;;
    --seed) seed="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    -h|--help) sed -n '2,5p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (try --help)" >&2; exit 2 ;;
  esac
done

dotnet build src/Observability.Cli -c Release -v quiet -nologo >&2
obs=(dotnet src/Observability.Cli/bin/Release/net10.0/obs.dll warmup simulate
  --synthetic-functions "$functions" --days "$days" --seed "$seed" --fixed-interval 5m)
mkdir -p "$out"

run() {
  local name="$1"; shift
  echo
  echo "== $name: ${obs[*]:2} $*"
  local started=$SECONDS
  COLUMNS=${COLUMNS:-140} "${obs[@]}" "$@" --chart "$out/$name.svg"
  "${obs[@]}" "$@" --json > "$out/$name.json"
  echo "(table run and JSON run: $((SECONDS - started)) s)"
}

run keep-alive-10m --keep-alive 10m
run keep-alive-1m --keep-alive 1m
# The same with a ping budget of 12 per function and hour for every policy: what fixed (5 min) spends anyway.
run keep-alive-1m-budget-12 --keep-alive 1m --budget-per-hour 12

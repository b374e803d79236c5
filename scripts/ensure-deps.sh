#!/usr/bin/env bash
# Installs what the suite and its tests need from Debian's packages, once; a no-op when present.
set -euo pipefail

need=()
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v runuser >/dev/null 2>&1 || need+=(util-linux)
# Native AOT (obs-sidecar is published natively compiled): a C toolchain and zlib's headers for the link.
command -v clang >/dev/null 2>&1 || need+=(clang)
[ -f /usr/include/zlib.h ] || need+=(zlib1g-dev)
# Rules, alerts and dashboards are proven with the real tools: promtool, prometheus, amtool.
command -v promtool >/dev/null 2>&1 || need+=(prometheus)
command -v amtool >/dev/null 2>&1 || need+=(prometheus-alertmanager)
# deploy/'s manifests and Compose file are linted with yamllint (tests/Observability.Deploy.Tests).
command -v yamllint >/dev/null 2>&1 || need+=(yamllint)
# Browser tests drive Debian's Chromium (Playwright's own browser download does not work here).
[ -x /usr/bin/chromium ] || need+=(chromium)
# The collector's build builds its web UI with Vite (Node.js 20.19 or later, npm).
command -v npm >/dev/null 2>&1 || need+=(nodejs npm)

if [ ${#need[@]} -gt 0 ]; then
  echo "Installing: ${need[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "These Debian packages are missing and installing them needs root: ${need[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

#!/usr/bin/env bash
# Installs the Debian packages the tests drive for real (nginx, openssl,
# systemd-analyze, shellcheck for every *.sh, chromium for the console's browser
# tests), when they are missing and we are root. Idempotent: a
# machine that has them pays nothing. Runs before `npm test` (pretest).
set -euo pipefail
need=()
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v openssl >/dev/null 2>&1 || need+=(openssl)
command -v systemd-analyze >/dev/null 2>&1 || need+=(systemd)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
[ -x "${THON_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "ensure-tools: missing ${need[*]}; install them (sudo apt-get install -y ${need[*]}) and rerun" >&2
  exit 1
fi
echo "ensure-tools: installing ${need[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null

#!/usr/bin/env bash
# npm run test:e2e [-- vitest args]: the end-to-end suite (test/e2e) on this
# machine, from whatever state it is in, as root:
#
#   1. installs what it drives when missing (Debian: chromium, libnss3-tools,
#      nginx-light, python3; docker.io through scripts/start-dockerd.sh);
#   2. starts dockerd unless one answers already (and stops it again at the
#      end if it started it; THON_E2E_KEEP_DOCKERD=1 keeps it);
#   3. builds the sandbox image with infra/image/build-offline.sh (cached by
#      content: about 0.1 s when nothing changed);
#   4. runs vitest with vitest.e2e.config.ts, THON_E2E_IMAGE set to the image;
#   5. removes every container, volume and image labelled with this run's id
#      (org.thon.e2e-run=<id>), the run's temp folders and its nginx, and the
#      swarm harness's namespaces and mounts a crashed test left, also when
#      vitest crashes or is interrupted.
#
# Prints the timings last (also in test-results/e2e-timing.json): the image
# build, and the time from the start of this script to 3 participants ready.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

now_ms() { date +%s%3N; }
T0=$(now_ms)
export THON_E2E_T0=$T0
export THON_E2E_RUN_ID=${THON_E2E_RUN_ID:-$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n' | cut -c1-6)}
RID=$THON_E2E_RUN_ID
mkdir -p test-results
rm -f test-results/e2e-timing.json

log() { echo "e2e: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "run as root: the suite starts dockerd, builds an image and runs containers"
  exit 1
fi

# --- 1. tools ------------------------------------------------------------------
need=()
[ -x "${THON_CHROMIUM:-/usr/bin/chromium}" ] || need+=(chromium)
command -v certutil >/dev/null 2>&1 || need+=(libnss3-tools)
command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ] || need+=(nginx-light)
command -v python3 >/dev/null 2>&1 || need+=(python3)
# The swarm harness (test/e2e/support/swarm.ts): ip for its namespaces; nsenter,
# unshare and setpriv come with util-linux.
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if ! { timeout 600 apt-get update -qq >&2 && timeout 1200 apt-get install -y -qq --no-install-recommends "${need[@]}" >&2; }; then
    log "apt-get install ${need[*]} failed"
    exit 1
  fi
fi
T_TOOLS=$(now_ms)

# --- 2. dockerd ----------------------------------------------------------------
started_dockerd=""
if ! { command -v docker >/dev/null 2>&1 && timeout 10 docker info >/dev/null 2>&1; }; then
  started_dockerd=1
fi
bash scripts/start-dockerd.sh >/dev/null || { log "could not start dockerd"; exit 1; }
T_DOCKERD=$(now_ms)

# shellcheck disable=SC2317 # run by the EXIT trap
cleanup() {
  local filter="label=org.thon.e2e-run=$RID" pidfile pid
  # What a crashed vitest may have left: the test's nginx (its pid file is in
  # the run's temp folder) and the temp folders themselves.
  for pidfile in "${TMPDIR:-/tmp}"/thon-e2e-"$RID"-*/nginx/nginx.pid; do
    [ -s "$pidfile" ] || continue
    pid=$(cat "$pidfile")
    if [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = nginx ]; then kill -TERM "$pid" 2>/dev/null || true; fi
  done
  # Swarms a crashed test left (their nodes died with it): namespaces, mounts, cgroups, folders.
  timeout 60 node --import tsx -e "import('./test/e2e/support/swarm.ts').then((m) => m.sweepSwarms((l) => console.error(l)))" || true
  rm -rf "${TMPDIR:-/tmp}"/thon-e2e-"$RID"-* 2>/dev/null || true
  # Bounded: each step gets a minute; nothing here may hang CI.
  timeout 60 sh -c "docker ps -aq --filter '$filter' | xargs -r docker rm -f -v >/dev/null" || true
  timeout 60 sh -c "docker volume ls -q --filter '$filter' | xargs -r docker volume rm -f >/dev/null" || true
  timeout 60 sh -c "docker network ls -q --filter '$filter' | xargs -r docker network rm >/dev/null" || true
  timeout 60 sh -c "docker images -q --filter '$filter' | sort -u | xargs -r docker rmi -f >/dev/null" || true
  if [ -n "$started_dockerd" ] && [ -z "${THON_E2E_KEEP_DOCKERD:-}" ]; then
    bash scripts/stop-dockerd.sh || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- 3. image --------------------------------------------------------------------
image=$(bash infra/image/build-offline.sh | tail -n 1)
if [ -z "$image" ]; then
  log "infra/image/build-offline.sh failed"
  exit 1
fi
T_IMAGE=$(now_ms)
export THON_E2E_IMAGE=$image
log "image $image; run id $RID"

# --- 4. the suite ------------------------------------------------------------------
npx vitest run -c vitest.e2e.config.ts "$@"
rc=$?

# --- timings -------------------------------------------------------------------------
node - "$T0" "$T_TOOLS" "$T_DOCKERD" "$T_IMAGE" <<'EOF' >&2 || true
const [t0, tools, dockerd, image] = process.argv.slice(2).map(Number);
const fs = require("node:fs");
const file = "test-results/e2e-timing.json";
const facts = fs.existsSync(file) ? JSON.parse(fs.readFileSync(file, "utf8")) : {};
Object.assign(facts, { toolsMs: tools - t0, dockerdMs: dockerd - tools, imageBuildMs: image - dockerd });
fs.writeFileSync(file, JSON.stringify(facts, null, 2) + "\n");
const s = (ms) => (ms === undefined ? "?" : `${(ms / 1000).toFixed(1)} s`);
console.log(
  `e2e timing: tools ${s(facts.toolsMs)}, dockerd ${s(facts.dockerdMs)}, image build ${s(facts.imageBuildMs)}; ` +
    `${facts.participantsReady ?? "?"} participants ready ${s(facts.readySinceScriptStartMs)} after the start ` +
    `(${s(facts.readyMs)} from the first container create)`,
);
EOF
exit $rc

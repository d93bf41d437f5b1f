#!/usr/bin/env bash
# Start a Docker engine on this machine, idempotently, and print its pid.
#
#   scripts/start-dockerd.sh            # as root
#
# - installs Debian's docker.io when `dockerd` is missing (apt-get update first);
# - does nothing but print the pid when `docker info` already works;
# - otherwise starts `dockerd` in the background (own session, so it outlives
#   this shell), logging to $THON_DOCKERD_LOG, pid in $THON_DOCKERD_PIDFILE;
# - waits at most $THON_DOCKERD_TIMEOUT seconds (default 60) for `docker info`.
# Exit 0 with the pid as the last stdout line, or non-zero with the log's tail
# on stderr. scripts/stop-dockerd.sh stops only a dockerd started here.
#
# Why by hand: the dev/CI machines have no init system running services, and no
# registry but npm and Debian's apt, so no image can be pulled: build images
# with infra/image/build-offline.sh.
set -euo pipefail

STATE_DIR=${THON_DOCKERD_STATE_DIR:-/var/run/thon-dockerd}
PIDFILE=${THON_DOCKERD_PIDFILE:-$STATE_DIR/dockerd.pid}
LOG=${THON_DOCKERD_LOG:-/var/log/thon-dockerd.log}
TIMEOUT=${THON_DOCKERD_TIMEOUT:-60}
# Extra dockerd flags, e.g. THON_DOCKERD_ARGS="--iptables=false" on a host
# without netfilter. Word-split on purpose.
EXTRA_ARGS=${THON_DOCKERD_ARGS:-}

log() { echo "start-dockerd: $*" >&2; }

if [ "$(id -u)" != 0 ]; then
  log "must run as root (dockerd needs it)"
  exit 1
fi

docker_ok() { timeout 10 docker info >/dev/null 2>&1; }

# The pid of the dockerd answering on the default socket: ours (pidfile) when
# alive, else whatever dockerd wrote to its own pidfile, else pidof.
current_pid() {
  local pid
  for f in "$PIDFILE" /var/run/docker.pid; do
    if [ -s "$f" ]; then
      pid=$(cat "$f")
      if [ -r "/proc/$pid/comm" ] && [ "$(cat "/proc/$pid/comm")" = dockerd ]; then
        echo "$pid"
        return 0
      fi
    fi
  done
  pidof dockerd 2>/dev/null | awk '{print $1}'
}

if ! command -v dockerd >/dev/null 2>&1; then
  log "dockerd not found: installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  timeout 300 apt-get update -qq >&2
  # iptables: the default bridge network needs it (a Recommends of docker.io
  # on some releases, so ask for it by name).
  timeout 600 apt-get install -y -qq --no-install-recommends docker.io iptables >&2
fi

if ! command -v docker >/dev/null 2>&1; then
  log "no docker client on PATH after install"
  exit 1
fi

if docker_ok; then
  pid=$(current_pid || true)
  log "docker already answers (dockerd pid ${pid:-unknown})"
  echo "${pid:-unknown}"
  exit 0
fi

# A dockerd that is running but not answering: if it is ours, give it the rest
# of the timeout below; if it is someone else's, do not fight it.
pid=$(current_pid || true)
if [ -n "${pid:-}" ]; then
  log "a dockerd (pid $pid) is running but docker info fails yet; waiting for it"
else
  mkdir -p "$STATE_DIR" "$(dirname "$LOG")"
  # dockerd refuses to start while its own pidfile names a live process; after
  # a hard stop that pid may belong to something else now.
  if [ -s /var/run/docker.pid ]; then
    old=$(cat /var/run/docker.pid)
    if [ ! -r "/proc/$old/comm" ] || [ "$(cat "/proc/$old/comm")" != dockerd ]; then
      rm -f /var/run/docker.pid
    fi
  fi
  log "starting dockerd (log: $LOG)"
  # setsid: own session and process group, so the job control of the calling
  # shell (or a test runner's kill of its group) does not take it down.
  # shellcheck disable=SC2086
  setsid dockerd $EXTRA_ARGS >>"$LOG" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$PIDFILE"
fi

deadline=$((SECONDS + TIMEOUT))
until docker_ok; do
  if ! kill -0 "$pid" 2>/dev/null; then
    log "dockerd (pid $pid) exited; last lines of $LOG:"
    tail -n 30 "$LOG" >&2 || true
    rm -f "$PIDFILE"
    exit 1
  fi
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "docker info still fails after ${TIMEOUT}s; last lines of $LOG:"
    tail -n 30 "$LOG" >&2 || true
    exit 1
  fi
  sleep 0.5
done

log "docker is up (dockerd pid $pid)"
echo "$pid"

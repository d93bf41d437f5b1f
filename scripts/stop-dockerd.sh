#!/usr/bin/env bash
# Stop the dockerd that scripts/start-dockerd.sh started (by its pidfile), and
# nothing else. Bounded: SIGTERM, wait up to $THON_DOCKERD_STOP_TIMEOUT seconds
# (default 30), then SIGKILL. A dockerd started some other way is left alone.
# Containers still running keep running only if they use --live-restore; by
# default dockerd stops them on its way down.
set -euo pipefail

STATE_DIR=${THON_DOCKERD_STATE_DIR:-/var/run/thon-dockerd}
PIDFILE=${THON_DOCKERD_PIDFILE:-$STATE_DIR/dockerd.pid}
TIMEOUT=${THON_DOCKERD_STOP_TIMEOUT:-30}

log() { echo "stop-dockerd: $*" >&2; }

if [ ! -s "$PIDFILE" ]; then
  log "no pidfile at $PIDFILE: no dockerd of ours to stop"
  exit 0
fi
pid=$(cat "$PIDFILE")
case "$pid" in
  '' | *[!0-9]*)
    log "pidfile $PIDFILE holds no pid; removing it"
    rm -f "$PIDFILE"
    exit 0
    ;;
esac
# Guard against pid reuse: only signal a process that is a dockerd.
if [ ! -r "/proc/$pid/comm" ] || [ "$(cat "/proc/$pid/comm")" != dockerd ]; then
  log "pid $pid is not running dockerd any more; removing stale pidfile"
  rm -f "$PIDFILE"
  exit 0
fi

log "stopping dockerd pid $pid"
kill -TERM "$pid" 2>/dev/null || true
deadline=$((SECONDS + TIMEOUT))
while kill -0 "$pid" 2>/dev/null; do
  if [ "$SECONDS" -ge "$deadline" ]; then
    log "still running after ${TIMEOUT}s: SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    sleep 1
    break
  fi
  sleep 0.5
done
rm -f "$PIDFILE"
log "stopped"

#!/bin/sh
# A stand-in for the `docker node inspect|update` calls of THON's node-label
# scripts (infra/render/swarm.ts), after the docker CLI's documented
# behaviour: labels kept per node in $THON_NODE_STATE (key=value lines),
# --label-rm of a key the node lacks fails like the real engine ("key ...
# doesn't exist in node's labels"), every update is logged to $THON_NODE_LOG.
set -eu
state=${THON_NODE_STATE:?}
[ "${1:-}" = node ] || { echo "stand-in: only docker node is handled" >&2; exit 2; }
shift
case "${1:-}" in
  inspect)
    shift
    if [ "${1:-}" = --format ]; then
      # The one template the scripts use: the value of one label.
      key=$(printf '%s' "$2" | sed -n 's/.*index \.Spec\.Labels "\([^"]*\)".*/\1/p')
      [ -n "$key" ] || { echo "stand-in: unsupported template $2" >&2; exit 2; }
      grep "^$key=" "$state" | cut -d= -f2- || true
    fi
    ;;
  update)
    shift
    printf '%s\n' "$*" >>"${THON_NODE_LOG:?}"
    while [ $# -gt 1 ]; do
      case "$1" in
        --label-rm)
          grep -q "^$2=" "$state" || { echo "Error response from daemon: key $2 doesn't exist in node's labels" >&2; exit 1; }
          grep -v "^$2=" "$state" >"$state.new" || true
          mv "$state.new" "$state"
          ;;
        --label-add)
          key=${2%%=*}
          grep -v "^$key=" "$state" >"$state.new" || true
          printf '%s\n' "$2" >>"$state.new"
          mv "$state.new" "$state"
          ;;
        *) echo "stand-in: unsupported flag $1" >&2; exit 2 ;;
      esac
      shift 2
    done
    ;;
  *) echo "stand-in: unsupported node command $1" >&2; exit 2 ;;
esac

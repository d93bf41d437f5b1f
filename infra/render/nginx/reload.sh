#!/bin/sh
# THON's nginx reload: one transaction over the event's files. Shipped to the
# host as the thon-proxy-reload command's script (infra/render/nginx/reload.ts
# puts `set -- <arguments>` in front of it).
#
# Usage: reload.sh NGINX PARTICIPANTS_DIR UPSTREAMS_DIR [UNLISTED_FILE...]
#   NGINX             the nginx command, options included ("nginx -c /etc/nginx/nginx.conf"),
#                     split into words on purpose
#   PARTICIPANTS_DIR  the folder of participants' location files (<user>.conf)
#   UPSTREAMS_DIR     the folder of participants' upstream files (<user>.conf)
#   UNLISTED_FILE     files staged but not in the manifest (the private key:
#                     its hash would make the manifest secret)
# stdin: the manifest, `sha256sum -c` input, of every file this deployment wrote.
#
# 1. Promote: each staged file (<file>.thon-staged) replaces its live file (an
#    atomic rename; the old one is kept as a hard link, <file>.thon-prev).
# 2. Prune: participant files not in the manifest are set aside. Pulumi deletes
#    a removed participant's file resources only after every update, that is
#    after this reload; pruning here makes this very reload drop them.
# 3. sha256sum -c: nginx is only reloaded with exactly the files Pulumi wrote,
#    not with a hand edit it would silently keep.
# 4. nginx -t checks the whole configuration.
# 5. nginx -s reload is graceful: the master starts new workers and old ones
#    finish their open connections (WebSockets included) before exiting. It is
#    what Debian's `systemctl reload nginx` runs.
#
# When 3 or 4 fails, every step of 1 and 2 is undone: the live files are the
# previous ones again, the rejected ones stay staged (Pulumi's state says they
# were written, and the next `pulumi up` retries this reload with them), and
# the running nginx never saw them. Each step is journalled, so the undo is exact.
set -eu

nginx=$1
participants=$2
upstreams=$3
shift 3
# Paths have no newlines (the program refuses them), so one per line.
unlisted=$(printf '%s\n' "$@")

manifest=$(mktemp)
journal=$(mktemp)
trap 'rm -f "$manifest" "$journal"' EXIT
cat > "$manifest"

owned() {
  cut -c67- "$manifest"
  if [ -n "$unlisted" ]; then printf '%s\n' "$unlisted"; fi
}

undo() {
  tac "$journal" | while read -r step f; do
    case "$step" in
      replaced) ln -f -- "$f" "$f.thon-staged" && mv -f -- "$f.thon-prev" "$f" ;;
      added) mv -f -- "$f" "$f.thon-staged" ;;
      pruned) mv -f -- "$f.thon-pruned" "$f" ;;
    esac
  done
}

forget() {
  while read -r step f; do
    case "$step" in
      replaced) rm -f -- "$f.thon-prev" ;;
      pruned) rm -f -- "$f.thon-pruned" ;;
    esac
  done < "$journal"
}

rejected() {
  undo
  # shellcheck disable=SC2086 # $nginx is a command with its options
  if $nginx -t >/dev/null 2>&1; then
    echo "thon: nothing changed: the files nginx runs with are the previous ones again (they pass nginx -t), any new ones wait beside them as <file>.thon-staged" >&2
  else
    echo "thon: the previous files are back, but nginx -t fails with them too: the cause is outside this change (a file of another site, or a certificate file that is gone)" >&2
  fi
  exit 1
}

owned | while read -r f; do
  [ -e "$f.thon-staged" ] || continue
  if [ -e "$f" ]; then
    ln -f -- "$f" "$f.thon-prev"
    echo "replaced $f" >> "$journal"
  else
    echo "added $f" >> "$journal"
  fi
  mv -f -- "$f.thon-staged" "$f"
done

for f in "$participants"/*.conf "$upstreams"/*.conf; do
  [ -e "$f" ] || continue
  cut -c67- "$manifest" | grep -qxF -- "$f" && continue
  mv -f -- "$f" "$f.thon-pruned"
  echo "pruned $f" >> "$journal"
done

if ! out=$(sha256sum --check --strict --quiet "$manifest" 2>&1); then
  printf "thon: these nginx files of the event differ from what Pulumi wrote:\n%s\nFix: undo the hand edit (put your own settings in a file of your own), then run pulumi up again\n" "$out" >&2
  rejected
fi

# shellcheck disable=SC2086 # $nginx is a command with its options
if ! out=$($nginx -t 2>&1); then
  printf "thon: nginx -t rejected the configuration; the running nginx keeps serving the previous one.\n%s\nFix: correct what nginx names above, then run pulumi up again\n" "$out" >&2
  rejected
fi

forget
# shellcheck disable=SC2086 # $nginx is a command with its options
if ! out=$($nginx -s reload 2>&1); then
  printf "thon: the configuration is valid but nginx could not be reloaded (is it running?).\n%s\nFix: start nginx (systemctl enable --now nginx), then run pulumi up again\n" "$out" >&2
  exit 1
fi

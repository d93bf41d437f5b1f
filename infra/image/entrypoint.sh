#!/bin/sh
# The THON sandbox's entrypoint (run by tini; the container's command are
# code-server's arguments): installs the organizer's extensions, then becomes
# code-server.
#
#   THON_EXTENSIONS=ms-python.python,esbenp.prettier-vscode@10.4.0
#
# - Best effort and never in the way: the installs run detached, in the
#   background, so code-server starts at once whatever the marketplace does.
#   A sandbox with `network: none`, or a host with no route to the
#   marketplace, logs one line per extension that could not be installed
#   and works without it.
# - Once per container: ~/.local/share/code-server/.thon-extensions records
#   the list once every extension of it installed, and later starts of the
#   same container skip the work. The home folder lives in the container, not
#   in the workspace volume, so a new container (new image, new settings)
#   installs again into its fresh home; a failed attempt is retried at the
#   next start of the container.
# - Extensions land in code-server's default extensions folder, which the
#   running server watches: they show up without a restart (a reload of the
#   browser tab at most).
#
# On a swarm the password comes as a secret file (PASSWORD_FILE, e.g.
# /run/secrets/thon-password), never in the service's environment, where
# `docker service inspect` would show it: it becomes code-server's PASSWORD
# here, and PASSWORD_FILE is dropped so code-server's children never see it.
#
# Logs go to the container's stderr (`docker logs thon-<user>`), prefixed
# "thon-entrypoint:". THON_EXTENSION_TIMEOUT bounds each install (seconds,
# default 300).
set -u

log() { echo "thon-entrypoint: $*" >&2; }

if [ -n "${PASSWORD_FILE:-}" ]; then
  if [ ! -r "$PASSWORD_FILE" ]; then
    # Without it code-server would start with a password nobody knows (or none): refuse.
    log "cannot read the password file $PASSWORD_FILE; not starting"
    exit 1
  fi
  # The whole file, without the trailing newline an editor may have added.
  PASSWORD=$(cat "$PASSWORD_FILE")
  export PASSWORD
  unset PASSWORD_FILE
fi

# On a swarm the Kilo Code config (it holds the participant's API key) comes
# as a secret file outside the home (THON_KILO_CONFIG_FILE, e.g.
# /run/secrets/thon-kilo.json): a secret mounted inside the home volume would
# make Docker create ~/.config and ~/.config/kilo there as root. Copied, not
# linked, at each start (so a new key lands with the new task), as this user,
# mode 0600, through a temporary file so Kilo never reads half of it. A
# failure costs the LLM, not the editor: logged, and code-server starts.
if [ -n "${THON_KILO_CONFIG_FILE:-}" ]; then
  kilo_dir="${HOME:-/home/coder}/.config/kilo"
  kilo_tmp="$kilo_dir/.config.json.thon"
  # cat, not cp: the copy gets 0600 from the umask, not the secret's 0400.
  if (umask 077 && mkdir -p "$kilo_dir" && rm -f "$kilo_tmp" && cat "$THON_KILO_CONFIG_FILE" >"$kilo_tmp" && mv -f "$kilo_tmp" "$kilo_dir/config.json"); then
    :
  else
    rm -f "$kilo_tmp"
    log "could not put the Kilo Code config $THON_KILO_CONFIG_FILE in place; Kilo has no LLM settings"
  fi
  unset THON_KILO_CONFIG_FILE
fi

install_extensions() {
  data="${HOME:-/home/coder}/.local/share/code-server"
  marker="$data/.thon-extensions"
  if [ -f "$marker" ] && [ "$(cat "$marker")" = "$THON_EXTENSIONS" ]; then
    return 0
  fi
  mkdir -p "$data"
  out=$(mktemp) || { log "cannot create a temporary file; extensions not installed"; return 0; }
  failed=0
  old_ifs=$IFS
  IFS=,
  # shellcheck disable=SC2086 # split on commas on purpose
  set -- $THON_EXTENSIONS
  IFS=$old_ifs
  for ext in "$@"; do
    # Tolerate "a, b" as well as "a,b".
    ext=$(printf '%s' "$ext" | tr -d ' \t')
    [ -n "$ext" ] || continue
    if timeout "${THON_EXTENSION_TIMEOUT:-300}" code-server --install-extension "$ext" </dev/null >"$out" 2>&1; then
      log "installed extension $ext"
    else
      status=$?
      failed=1
      log "could not install extension $ext (exit $status; code-server said: $(tail -n 3 "$out" | tr '\n' ' '))"
      log "continuing without $ext; it is retried when this container starts again"
    fi
  done
  rm -f "$out"
  if [ "$failed" = 0 ]; then
    printf '%s' "$THON_EXTENSIONS" >"$marker"
  fi
}

if [ -n "${THON_EXTENSIONS:-}" ]; then
  # The subshell exits at once, so the installer is re-parented to tini
  # (PID 1, or a registered subreaper under `docker run --init`), which reaps
  # it; code-server below neither waits for it nor inherits a zombie.
  (install_extensions </dev/null >/dev/null &)
fi

# The organizer's VS Code settings (written by the program) over the
# participant's own, which live in the home volume and survive new containers.
if [ -f /etc/thon/vscode-settings.json ]; then
  node /usr/local/lib/thon/merge-settings.cjs /etc/thon/vscode-settings.json \
    "${HOME:-/home/coder}/.local/share/code-server/User/settings.json" || log "could not merge the organizer's settings"
fi

exec code-server "$@"

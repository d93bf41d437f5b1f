#!/bin/sh
# Runs as root inside both image builds (infra/image/Dockerfile and the
# Dockerfile that infra/image/build-offline.sh generates), after Node is at
# /usr/local/bin/node and code-server at /usr/local/lib/code-server: the
# user, folders and defaults every THON sandbox has.
set -eu

CS_ENTRY=/usr/local/lib/code-server/node_modules/code-server/out/node/entry.js
[ -x /usr/local/bin/node ] || { echo "setup-rootfs: /usr/local/bin/node missing" >&2; exit 1; }
[ -f "$CS_ENTRY" ] || { echo "setup-rootfs: $CS_ENTRY missing" >&2; exit 1; }

# `code-server` on PATH (the entry has a `#!/usr/bin/env node` shebang).
chmod 0755 "$CS_ENTRY"
ln -sf "$CS_ENTRY" /usr/local/bin/code-server

# npm and npx on PATH (the node_modules/npm tree is copied in by both builds).
if [ -f /usr/local/lib/node_modules/npm/bin/npm-cli.js ]; then
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js /usr/local/bin/npm
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js /usr/local/bin/npx
fi

# The entrypoint (entrypoint.sh, copied in just before this script runs).
[ -f /usr/local/bin/thon-entrypoint ] || { echo "setup-rootfs: /usr/local/bin/thon-entrypoint missing" >&2; exit 1; }
chown 0:0 /usr/local/bin/thon-entrypoint
chmod 0755 /usr/local/bin/thon-entrypoint

# The participant: uid/gid 1000, matching `--user 1000:1000` and the owner of
# the per-participant socket folder on the host.
groupadd --gid 1000 coder
useradd --uid 1000 --gid 1000 --home-dir /home/coder --create-home --shell /bin/bash coder

# /workspace: a named volume is mounted here; Docker seeds an empty new
# volume with this folder's owner and mode, so the volume is coder's.
# ~/.local/share/code-server/User: VS Code settings; ~/.config/kilo: the Kilo
# Code provider config that the program writes.
mkdir -p /workspace \
  /home/coder/.local/share/code-server/User \
  /home/coder/.config/kilo \
  /home/coder/.config/code-server

# code-server has flags but no environment variables for these two; a config
# file gives them as defaults, so the image is quiet even when run without
# the program's flags. No password here: it comes from $PASSWORD or
# $HASHED_PASSWORD, which override the config file.
cat >/home/coder/.config/code-server/config.yaml <<'YAML'
# Defaults baked into the THON sandbox image; command-line flags win.
disable-telemetry: true
disable-update-check: true
YAML

chown -R 1000:1000 /workspace /home/coder
chmod 0755 /workspace

# /run/thon: the host bind-mounts the participant's own socket folder here
# (`--socket /run/thon/code-server.sock`). Owned by coder so that a run
# without the mount still works.
mkdir -p /run/thon
chown 1000:1000 /run/thon
chmod 0755 /run/thon

# Smaller image: nothing above needs the apt lists or caches.
rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb /var/cache/debconf/*-old

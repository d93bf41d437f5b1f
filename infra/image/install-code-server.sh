#!/usr/bin/env bash
# Install code-server from the npm registry into DEST, with no download other
# than npm packages: the one recipe shared by infra/image/Dockerfile (builder
# stage, on a real host) and infra/image/build-offline.sh (on this machine's
# host, copied into the image afterwards), so both images hold the same tree.
#
#   install-code-server.sh DEST [VERSION]        (VERSION default 4.100.3)
#
# Result: DEST/node_modules/code-server/out/node/entry.js (the CLI; shebang
# `#!/usr/bin/env node`), native modules built against this Node, and
# DEST/.thon-installed (a marker written last: a DEST without it is partial).
#
# Needs: Node 20 (code-server 4.100.3 refuses other majors; newer code-server
# wants Node 22+), npm, python3, make, g++, Kerberos headers (libkrb5-dev, for
# the `kerberos` module, whose prebuilt binary would be a GitHub download) and
# Debian's ripgrep (`rg`, see below).
#
# What it works around, each of which fails an offline `npm i -g code-server`:
# - npm 11 runs no dependency install scripts unless allowed. The allow-list
#   for code-server's own install and argon2 goes in DEST/package.json
#   (`allowScripts`); code-server's postinstall then runs a nested
#   `npm install` in lib/vscode and lib/vscode/extensions, whose native
#   modules are allowed through a `.npmrc` in each of those folders. npm 11
#   refuses `--allow-scripts`/`npm_config_allow_scripts` in project installs
#   (EALLOWSCRIPTS), and an allow-list in a user npmrc is exported by the
#   outer npm as npm_config_allow_scripts into the nested one, which then
#   fails the same way: hence the per-folder .npmrc files. npm 10 ignores both
#   fields and runs every script, which is also fine.
# - code-server's postinstall exits when run as root unless
#   npm_config_unsafe_perm=true (npm 11 warns that the option is unknown).
# - @vscode/ripgrep's postinstall downloads rg from GitHub unless its cache
#   already holds the asset: we put Debian's rg there, in a private TMPDIR,
#   under the exact name that the pinned @vscode/ripgrep asks for.
# - node-pty's postinstall calls `npx node-gyp`: needs npm_config_yes=true.
# - argon2 and kerberos try a GitHub prebuilt first and fall back to
#   node-gyp; node-gyp uses the local Node headers when they exist (nodedir),
#   instead of downloading them.
set -euo pipefail

DEST=${1:?usage: install-code-server.sh DEST [VERSION]}
VERSION=${2:-4.100.3}
# Dependencies of lib/vscode (and of its extensions folder) whose install
# scripts must run on Linux. Windows-only ones (@vscode/windows-*) stay off.
NESTED_ALLOW="@parcel/watcher,@vscode/deviceid,@vscode/ripgrep,@vscode/spdlog,kerberos,native-watchdog,node-pty"

log() { echo "install-code-server: $*" >&2; }
die() { log "error: $*"; exit 1; }

command -v node >/dev/null || die "node not found (need Node 20)"
command -v npm >/dev/null || die "npm not found"
node_major=$(node -p 'process.versions.node.split(".")[0]')
[ "$node_major" = 20 ] || die "code-server $VERSION needs Node 20, found $(node -v)"
RG=$(command -v rg) || die "rg not found: apt-get install ripgrep (Debian's rg replaces the GitHub download)"
for tool in python3 make g++; do
  command -v "$tool" >/dev/null || die "$tool not found (node-gyp builds native modules)"
done
[ -e /usr/include/gssapi/gssapi.h ] || die "Kerberos headers missing: apt-get install libkrb5-dev"

if [ -f "$DEST/.thon-installed" ]; then
  log "already installed in $DEST"
  exit 0
fi

rm -rf "$DEST"
mkdir -p "$DEST"
DEST=$(cd "$DEST" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# node-gyp: build against the running Node's own headers when they are
# installed beside it (/usr/include/node from Debian/NodeSource packages,
# /usr/local/include/node in the official node image).
node_prefix=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
nodedir_line=""
if [ -f "$node_prefix/include/node/common.gypi" ]; then
  nodedir_line="nodedir=$node_prefix"
fi

export TMPDIR="$work/tmp"
mkdir -p "$TMPDIR"
export npm_config_unsafe_perm=true
export npm_config_fund=false npm_config_audit=false npm_config_update_notifier=false
# node-pty's postinstall runs `npx node-gyp configure` (only to write a
# compile_commands.json); npx fetches node-gyp from the registry, and cancels
# instead when a user npmrc says `yes=false` (as this machine's does).
export npm_config_yes=true
[ -n "$nodedir_line" ] && export npm_config_nodedir="$node_prefix"

# 1. Unpack code-server and its dependencies, running no script yet.
cat >"$DEST/package.json" <<EOF
{
  "name": "thon-code-server",
  "private": true,
  "description": "code-server for THON sandboxes, installed by infra/image/install-code-server.sh",
  "dependencies": { "code-server": "$VERSION" },
  "allowScripts": { "code-server": true, "argon2": true }
}
EOF
log "npm install code-server@$VERSION (scripts off)"
(cd "$DEST" && npm install --omit=dev --ignore-scripts --no-package-lock >&2)

CS="$DEST/node_modules/code-server"
[ -f "$CS/out/node/entry.js" ] || die "code-server did not unpack into $CS"

# 2. Allow the nested installs' native modules (see the header).
for d in "$CS/lib/vscode" "$CS/lib/vscode/extensions"; do
  printf 'allow-scripts=%s\n%s\n' "$NESTED_ALLOW" "$nodedir_line" >"$d/.npmrc"
done

# 3. Seed @vscode/ripgrep's download cache with Debian's rg. The cache folder
#    is named after the package version, the asset after the rg release
#    constant in its postinstall.js: read both from the pinned package.
rg_version=$(node -e '
  const s = require(process.argv[1]);
  const p = s.packages && s.packages["node_modules/@vscode/ripgrep"];
  if (!p) process.exit(1);
  console.log(p.version);' "$CS/lib/vscode/npm-shrinkwrap.json") \
  || die "cannot find @vscode/ripgrep in lib/vscode/npm-shrinkwrap.json"
(cd "$work" && npm pack "@vscode/ripgrep@$rg_version" >/dev/null 2>&1) \
  || die "npm pack @vscode/ripgrep@$rg_version failed"
rg_asset_version=$(tar -xzOf "$work"/vscode-ripgrep-*.tgz package/lib/postinstall.js \
  | sed -n "s/^const VERSION = '\([^']*\)'.*/\1/p")
[ -n "$rg_asset_version" ] || die "cannot read the rg asset version from @vscode/ripgrep@$rg_version"
case "$(uname -m)" in
  x86_64) rg_target=x86_64-unknown-linux-musl ;;
  aarch64) rg_target=aarch64-unknown-linux-musl ;;
  *) die "unsupported architecture $(uname -m)" ;;
esac
rg_cache="$TMPDIR/vscode-ripgrep-cache-$rg_version"
rg_asset="ripgrep-$rg_asset_version-$rg_target.tar.gz"
mkdir -p "$rg_cache" "$work/rg"
cp "$RG" "$work/rg/rg"
tar -C "$work/rg" -czf "$rg_cache/$rg_asset" rg
log "seeded ripgrep cache: \$TMPDIR/vscode-ripgrep-cache-$rg_version/$rg_asset"

# 4. Run the allowed install scripts: argon2 (node-gyp), code-server's
#    postinstall (nested installs, native modules, ripgrep from the cache).
log "npm rebuild argon2 code-server (native modules; a few minutes)"
(cd "$DEST" && npm rebuild --foreground-scripts argon2 code-server >"$DEST/.thon-rebuild.log" 2>&1) || {
  tail -n 60 "$DEST/.thon-rebuild.log" >&2
  die "npm rebuild failed"
}

# 5. Drop what only the build needed: object files, dependency lists and
#    makefiles (they hold the build folder's absolute paths), argon2's build folder
#    (node-pre-gyp copied the module to lib/binding), the .npmrc files.
find "$DEST/node_modules" -type d \( -name obj.target -o -path '*/Release/.deps' \) -prune -exec rm -rf {} +
find "$DEST/node_modules" -type f -path '*/build/*' \
  \( -name Makefile -o -name '*.mk' -o -name config.gypi -o -name compile_commands.json \) -delete
rm -rf "$DEST"/node_modules/argon2/build-tmp-*
rm -f "$CS/lib/vscode/.npmrc" "$CS/lib/vscode/extensions/.npmrc"

# 6. Check the final tree: what the scripts were meant to produce.
check_node() {
  (cd "$1" && node -e "require('$2')") >/dev/null 2>&1 || die "module $2 does not load in $1"
}
check_node "$CS" argon2
for m in node-pty @vscode/spdlog native-watchdog kerberos @parcel/watcher @vscode/deviceid; do
  check_node "$CS/lib/vscode" "$m"
done
"$CS/lib/vscode/node_modules/@vscode/ripgrep/bin/rg" --version >/dev/null \
  || die "@vscode/ripgrep has no working bin/rg"
node "$CS/out/node/entry.js" --version >/dev/null || die "code-server --version fails"

{
  echo "code-server=$VERSION"
  echo "node=$(node -v)"
  echo "npm=$(npm -v)"
  echo "vscode-ripgrep=$rg_version ($rg_asset, from $RG)"
} >"$DEST/.thon-installed"
log "done: $(node "$CS/out/node/entry.js" --version | head -n1)"

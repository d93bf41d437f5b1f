#!/usr/bin/env bash
# Build the THON sandbox image with no image registry: the same image as
# infra/image/Dockerfile, from Debian's apt and the npm registry only.
#
#   infra/image/build-offline.sh          # as root, with a running Docker engine
#                                         # (scripts/start-dockerd.sh)
#
# Steps, each cached:
#  a. base: `debootstrap --variant=minbase bookworm` (plus runtime-packages.txt)
#     from the Debian mirror apt uses, imported with `docker import` as
#     thon-base:bookworm-<hash> (alias thon-base:bookworm);
#  b. code-server installed on this host with npm by install-code-server.sh
#     into .cache/code-server/<key>/ (Node 20 from the host);
#  c. a generated Dockerfile FROM that base that copies the host's node binary
#     and the code-server tree in, then the shared tail of infra/image/Dockerfile
#     (user coder 1000:1000, folders, config, the entrypoint that installs
#     $THON_EXTENSIONS, USER/WORKDIR/ENTRYPOINT).
# The image is tagged thon-sandbox:offline-<hash>, the hash covering every
# input (these scripts, the Dockerfile, the package list, code-server and Node
# versions); when that tag exists the script only re-points the alias
# thon-sandbox:offline and exits. The last stdout line is the image tag.
#
# Environment: THON_CODE_SERVER_VERSION (4.100.3), THON_CACHE_DIR (<repo>/.cache),
# THON_DEBIAN_MIRROR (default: from /etc/apt/sources.list{,.d}),
# THON_IMAGE_REPO (thon-sandbox).
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$HERE/../.." && pwd)
CODE_SERVER_VERSION=${THON_CODE_SERVER_VERSION:-4.100.3}
CACHE=${THON_CACHE_DIR:-$REPO/.cache}
IMAGE_REPO=${THON_IMAGE_REPO:-thon-sandbox}
SUITE=bookworm
BASE_REPO=thon-base
# Bounds, in seconds, for the slow steps.
T_APT=600 T_DEBOOTSTRAP=1200 T_IMPORT=600 T_NPM=1800 T_BUILD=900

log() { echo "build-offline: $*" >&2; }
die() { log "error: $*"; exit 1; }

[ "$(id -u)" = 0 ] || die "run as root (debootstrap and docker need it)"
command -v docker >/dev/null || die "no docker client: run scripts/start-dockerd.sh"
timeout 20 docker info >/dev/null 2>&1 || die "Docker engine not answering: run scripts/start-dockerd.sh"
command -v node >/dev/null || die "node not found (Node 20 is copied into the image)"
NODE_BIN=$(readlink -f "$(command -v node)")
NODE_VERSION=$(node -v)
case "$NODE_VERSION" in v20.*) ;; *) die "code-server $CODE_SERVER_VERSION needs Node 20, host has $NODE_VERSION" ;; esac
ARCH=$(dpkg --print-architecture)

mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
# One build at a time (a second caller waits, then takes the cached result).
exec 9>"$CACHE/build-offline.lock"
flock -w 3600 9 || die "another build-offline.sh holds $CACHE/build-offline.lock"

sha() { sha256sum | cut -c1-12; }

# --- the hashes -------------------------------------------------------------
pkgs=$(grep -v '^[[:space:]]*\(#\|$\)' "$HERE/runtime-packages.txt" | tr -d ' \t' | sort -u)
# Bump "base vN" whenever the base recipe (section a) changes.
BASE_HASH=$(printf 'base v3\n%s\n%s\n%s\n' "$SUITE" "$ARCH" "$pkgs" | sha)
BASE_TAG="$BASE_REPO:$SUITE-$BASE_HASH"
INSTALL_KEY="$CODE_SERVER_VERSION-node$NODE_VERSION-$(sha <"$HERE/install-code-server.sh")"
HASH=$(
  {
    echo "image v2 $ARCH $CODE_SERVER_VERSION $NODE_VERSION $(npm -v) $BASE_HASH"
    for f in build-offline.sh install-code-server.sh setup-rootfs.sh entrypoint.sh merge-settings.cjs runtime-packages.txt Dockerfile; do
      echo "== $f"
      cat "$HERE/$f"
    done
  } | sha
)
TAG="$IMAGE_REPO:offline-$HASH"

image_exists() { docker image inspect "$1" >/dev/null 2>&1; }

if image_exists "$TAG"; then
  docker tag "$TAG" "$IMAGE_REPO:offline"
  log "up to date: $TAG (alias $IMAGE_REPO:offline)"
  echo "$TAG"
  exit 0
fi

apt_updated=""
apt_install() { # install Debian packages that are missing
  local missing=() p
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  log "apt-get install ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  if [ -z "$apt_updated" ]; then
    timeout "$T_APT" apt-get update -qq >&2
    apt_updated=1
  fi
  timeout "$T_APT" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
}

# The Debian mirror that apt uses for $SUITE: deb822 .sources first, then
# one-line .list files; deb.debian.org when none names the suite.
debian_mirror() {
  if [ -n "${THON_DEBIAN_MIRROR:-}" ]; then
    echo "$THON_DEBIAN_MIRROR"
    return
  fi
  local f m
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    m=$(awk -v suite="$SUITE" '
      function flush() {
        if (uri != "" && enabled && types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " suite " ")) { print uri; found = 1; exit }
        uri = ""; suites = ""; types = ""; enabled = 1
      }
      BEGIN { enabled = 1 }
      /^[[:space:]]*$/ { flush(); next }
      /^#/ { next }
      tolower($1) == "uris:" { uri = $2 }
      tolower($1) == "suites:" { $1 = ""; suites = $0 }
      tolower($1) == "types:" { $1 = ""; types = $0 }
      tolower($1) == "enabled:" { enabled = (tolower($2) != "no") }
      END { if (!found) flush() }
    ' "$f")
    [ -n "$m" ] && { echo "$m"; return; }
  done
  for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
    [ -f "$f" ] || continue
    m=$(sed -e 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2; exit }')
    [ -n "$m" ] && { echo "$m"; return; }
  done
  echo "http://deb.debian.org/debian"
}

# --- a. base image ----------------------------------------------------------
t0=$SECONDS
if image_exists "$BASE_TAG"; then
  log "base: $BASE_TAG (cached)"
else
  apt_install debootstrap debian-archive-keyring
  mirror=$(debian_mirror)
  mkdir -p /var/cache/thon
  rootfs=$(mktemp -d /var/cache/thon/rootfs-$SUITE.XXXXXX)
  trap 'rm -rf "$rootfs"' EXIT
  log "base: debootstrap --variant=minbase $SUITE from $mirror (about a minute)"
  timeout "$T_DEBOOTSTRAP" debootstrap --variant=minbase --arch="$ARCH" \
    --include="$(echo "$pkgs" | paste -sd, -)" \
    "$SUITE" "$rootfs" "$mirror" >"$CACHE/debootstrap.log" 2>&1 || {
    tail -n 30 "$CACHE/debootstrap.log" >&2
    die "debootstrap failed (log: $CACHE/debootstrap.log)"
  }
  # Like debian:*-slim: no docs (but copyrights), man pages, translations,
  # package caches or lists, nor host files; the same dpkg excludes keep
  # later apt-get installs in derived images slim too. Every path below is
  # under "$rootfs", checked non-empty first.
  if [ -z "$rootfs" ] || [ ! -d "$rootfs/usr/share/doc" ]; then die "no rootfs at '$rootfs'"; fi
  printf '%s\n' \
    'path-exclude /usr/share/doc/*' \
    'path-include /usr/share/doc/*/copyright' \
    'path-exclude /usr/share/man/*' \
    'path-exclude /usr/share/groff/*' \
    'path-exclude /usr/share/info/*' \
    'path-exclude /usr/share/lintian/*' \
    'path-exclude /usr/share/linda/*' \
    'path-exclude /usr/share/locale/*' \
    >"$rootfs/etc/dpkg/dpkg.cfg.d/thon-slim"
  # debian:*-slim's apt settings too: no package caches kept after apt runs.
  printf '%s\n' \
    'DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
    'APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };' \
    'Dir::Cache::pkgcache "";' \
    'Dir::Cache::srcpkgcache "";' \
    >"$rootfs/etc/apt/apt.conf.d/docker-clean"
  find "$rootfs/usr/share/doc" -mindepth 1 ! -type d ! -name copyright -delete
  find "$rootfs/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/cache/apt/*.bin \
    "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/log/* \
    "$rootfs"/usr/share/man/* "$rootfs"/usr/share/info/* "$rootfs"/usr/share/groff/* \
    "$rootfs"/usr/share/lintian/* "$rootfs"/usr/share/locale/*
  : >"$rootfs/etc/resolv.conf"
  : >"$rootfs/etc/hostname"
  log "base: docker import as $BASE_TAG"
  tar -C "$rootfs" --numeric-owner -c . \
    | timeout "$T_IMPORT" docker import \
        --change 'CMD ["/bin/bash"]' \
        --change "LABEL thon.base-hash=$BASE_HASH" \
        - "$BASE_TAG" >/dev/null
  rm -rf "$rootfs"
  trap - EXIT
fi
docker tag "$BASE_TAG" "$BASE_REPO:$SUITE"
t_base=$((SECONDS - t0))

# --- b. code-server on the host ----------------------------------------------
t0=$SECONDS
CS_DIR="$CACHE/code-server/$INSTALL_KEY"
if [ -f "$CS_DIR/.thon-installed" ]; then
  log "code-server: $CS_DIR (cached)"
else
  apt_install libkrb5-dev ripgrep python3 make g++
  log "code-server: installing $CODE_SERVER_VERSION into $CS_DIR"
  timeout "$T_NPM" bash "$HERE/install-code-server.sh" "$CS_DIR" "$CODE_SERVER_VERSION" >&2
  # Older installs of the same version (other Node or recipe) are dead weight.
  find "$CACHE/code-server" -mindepth 1 -maxdepth 1 -type d ! -path "$CS_DIR" -exec rm -rf {} +
fi
t_cs=$((SECONDS - t0))

# --- c. the image -------------------------------------------------------------
t0=$SECONDS
ctx="$CACHE/image-context"
rm -rf "$ctx"
mkdir -p "$ctx"
trap 'rm -rf "$ctx"' EXIT
cp -al "$CS_DIR" "$ctx/code-server" 2>/dev/null || cp -a "$CS_DIR" "$ctx/code-server"
rm -f "$ctx/code-server/.thon-rebuild.log"
cp "$NODE_BIN" "$ctx/node"
# npm (and npx) of the same Node, so participants can `npm init`/`npm install`.
NPM_DIR=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
[ -f "$NPM_DIR/package.json" ] || die "npm not found beside node (looked in $NPM_DIR)"
cp -a "$NPM_DIR" "$ctx/npm"
cp "$HERE/setup-rootfs.sh" "$ctx/setup-rootfs.sh"
cp "$HERE/entrypoint.sh" "$ctx/entrypoint.sh"
cp "$HERE/merge-settings.cjs" "$ctx/merge-settings.cjs"
{
  echo "# Generated by infra/image/build-offline.sh; do not edit."
  echo "FROM $BASE_TAG"
  echo "COPY node /usr/local/bin/node"
  echo "COPY code-server /usr/local/lib/code-server"
  echo "COPY npm /usr/local/lib/node_modules/npm"
  echo "LABEL thon.inputs-hash=\"$HASH\" thon.code-server-version=\"$CODE_SERVER_VERSION\" thon.node-version=\"$NODE_VERSION\""
  sed -n '/^# >>> shared tail/,$p' "$HERE/Dockerfile"
} >"$ctx/Dockerfile"
grep -q '^ENTRYPOINT' "$ctx/Dockerfile" || die "no shared tail found in $HERE/Dockerfile"
log "image: docker build -t $TAG"
# Legacy builder (the Debian engine has no BuildKit frontend to pull); no
# network needed, none given; --force-rm: no stopped container left behind
# when a step fails.
DOCKER_BUILDKIT=0 timeout "$T_BUILD" docker build --network none --force-rm \
  -t "$TAG" -t "$IMAGE_REPO:offline" "$ctx" >&2
rm -rf "$ctx"
trap - EXIT
t_img=$((SECONDS - t0))

size=$(docker image inspect -f '{{.Size}}' "$TAG")
log "built $TAG (alias $IMAGE_REPO:offline), $((size / 1024 / 1024)) MiB; seconds: base $t_base, code-server $t_cs, image $t_img"
echo "$TAG"

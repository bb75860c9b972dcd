#!/usr/bin/env bash
# Builds a local stand-in for the `node:20-bookworm-slim` base image, for
# machines that cannot pull from Docker Hub: a debootstrap'ed Debian bookworm
# (minbase) root filesystem plus the host's own node (v20) and npm, imported
# with `podman import`.
#
# Layout mirrors the official image: node in /usr/local/bin, npm in
# /usr/local/lib/node_modules/npm, a `node` user with uid/gid 1000, CMD node.
#
# Idempotent: does nothing when the image already exists (FORCE=1 rebuilds).
#
#   scripts/container/base-image.sh [image-name]
#
# Env: BASE_IMAGE_NAME (default localhost/node:20-bookworm-slim),
#      DEBIAN_MIRROR (default: the host's apt mirror, else deb.debian.org),
#      NODE_BIN (default: `command -v node`), FORCE=1, PODMAN (default podman).
set -euo pipefail

IMAGE="${1:-${BASE_IMAGE_NAME:-localhost/node:20-bookworm-slim}}"
PODMAN="${PODMAN:-podman}"
SUITE=bookworm

log() { printf '[base-image] %s\n' "$*" >&2; }

if [[ "${FORCE:-0}" != 1 ]] && "$PODMAN" image exists "$IMAGE"; then
  log "image $IMAGE already exists, skipping (FORCE=1 to rebuild)"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  log "debootstrap needs root"; exit 1
fi

need_pkgs=()
command -v debootstrap >/dev/null || need_pkgs+=(debootstrap)
command -v "$PODMAN" >/dev/null || need_pkgs+=(podman runc)
if ((${#need_pkgs[@]})); then
  log "installing ${need_pkgs[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${need_pkgs[@]}" >&2
fi

NODE_BIN="${NODE_BIN:-$(command -v node)}"
NODE_BIN="$(readlink -f "$NODE_BIN")"
NODE_VERSION="$("$NODE_BIN" -p 'process.versions.node')"
if [[ "${NODE_VERSION%%.*}" != 20 ]]; then
  log "host node is v$NODE_VERSION, expected v20 (set NODE_BIN)"; exit 1
fi
# npm: next to the node binary's prefix (/usr/lib or /usr/local/lib).
NPM_DIR=""
for d in "$(dirname "$(dirname "$NODE_BIN")")/lib/node_modules/npm" \
         /usr/local/lib/node_modules/npm /usr/lib/node_modules/npm; do
  if [[ -f "$d/bin/npm-cli.js" ]]; then NPM_DIR="$d"; break; fi
done
[[ -n "$NPM_DIR" ]] || { log "cannot find npm next to $NODE_BIN"; exit 1; }

if [[ -z "${DEBIAN_MIRROR:-}" ]]; then
  DEBIAN_MIRROR="$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' \
      /etc/apt/sources.list.d/*.sources /etc/apt/sources.list 2>/dev/null \
      | grep -oE 'https?://[^ ]+' | head -n1 || true)"
  DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
fi

WORK="$(mktemp -d /var/tmp/base-image.XXXXXX)"
trap 'rm -rf "$WORK"' EXIT
ROOTFS="$WORK/rootfs"

log "debootstrap $SUITE (minbase) from $DEBIAN_MIRROR into $ROOTFS"
t0=$SECONDS
debootstrap --variant=minbase "$SUITE" "$ROOTFS" "$DEBIAN_MIRROR" \
  > "$WORK/debootstrap.log" 2>&1 || { tail -n 30 "$WORK/debootstrap.log" >&2; exit 1; }
log "debootstrap done in $((SECONDS - t0))s"

# apt sources like the official image (security + updates).
cat > "$ROOTFS/etc/apt/sources.list" <<EOF
deb $DEBIAN_MIRROR $SUITE main
deb $DEBIAN_MIRROR $SUITE-updates main
deb ${DEBIAN_MIRROR%/debian*}/debian-security $SUITE-security main
EOF

log "adding node v$NODE_VERSION ($NODE_BIN) and npm ($NPM_DIR)"
install -D -m 0755 "$NODE_BIN" "$ROOTFS/usr/local/bin/node"
mkdir -p "$ROOTFS/usr/local/lib/node_modules"
cp -a "$NPM_DIR" "$ROOTFS/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$ROOTFS/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$ROOTFS/usr/local/bin/npx"
chroot "$ROOTFS" /usr/local/bin/node --version >/dev/null

# The official image's unprivileged user.
chroot "$ROOTFS" groupadd --gid 1000 node
chroot "$ROOTFS" useradd --uid 1000 --gid node --shell /bin/bash --create-home node

# Slim it down like the -slim images.
rm -rf "$ROOTFS"/var/lib/apt/lists/* "$ROOTFS"/var/cache/apt/*.bin \
       "$ROOTFS"/var/cache/apt/archives/*.deb "$ROOTFS"/usr/share/doc/* \
       "$ROOTFS"/usr/share/man/* "$ROOTFS"/usr/share/info/* "$ROOTFS"/var/log/*.log \
       "$ROOTFS"/usr/local/lib/node_modules/npm/man "$ROOTFS"/usr/local/lib/node_modules/npm/docs
: > "$ROOTFS/etc/resolv.conf"
: > "$ROOTFS/etc/hostname"

log "importing as $IMAGE"
tar --numeric-owner -C "$ROOTFS" -c . | "$PODMAN" import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change "ENV NODE_VERSION=$NODE_VERSION" \
  --change 'CMD ["node"]' \
  --message "stand-in for node:20-bookworm-slim (debootstrap minbase + host node v$NODE_VERSION)" \
  - "$IMAGE" >&2
"$PODMAN" image exists "$IMAGE"
log "done: $IMAGE ($(( SECONDS - t0 ))s)"

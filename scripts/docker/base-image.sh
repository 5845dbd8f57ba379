#!/usr/bin/env bash
# Builds a stand-in for the public Node image where no image registry is reachable: a minimal Debian
# bookworm (debootstrap) plus this machine's own node and npm, imported as $BASE_IMAGE.
# The Dockerfiles' default BASE_IMAGE stays the public node image users pull.
set -euo pipefail

image="${BASE_IMAGE:-berth-node-base:local}"
log() { printf '[base-image] %s\n' "$*" >&2; }

if docker image inspect "$image" >/dev/null 2>&1; then
  log "$image exists"
  exit 0
fi
# Debian's archive keyring lets debootstrap verify bookworm's Release file; Debian has it already, Ubuntu
# (GitHub's runners) installs it from its archive.
if ! command -v debootstrap >/dev/null 2>&1 || [ ! -e /usr/share/keyrings/debian-archive-keyring.gpg ]; then
  log "installing debootstrap and debian-archive-keyring"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq debootstrap debian-archive-keyring >/dev/null
fi

root="$(mktemp -d /tmp/berth-rootfs.XXXXXX)"
trap 'rm -rf "$root"' EXIT
log "debootstrap minbase bookworm into $root"
debootstrap --variant=minbase bookworm "$root" >/dev/null

node_bin="$(readlink -f "$(command -v node)")"
npm_dir="$(npm root -g)/npm"
log "adding $node_bin ($("$node_bin" --version)) and npm from $npm_dir"
install -m 0755 "$node_bin" "$root/usr/local/bin/node"
mkdir -p "$root/usr/local/lib/node_modules"
cp -a "$npm_dir" "$root/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/local/bin/npx"
# The machine's CA bundle, so that npm inside builds trusts the same registry certificates as the host.
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
  mkdir -p "$root/etc/ssl/certs"
  cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi
rm -rf "$root/var/cache/apt/archives"/*.deb "$root/var/lib/apt/lists"/*

tar -C "$root" -c . | docker import \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
  --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
  --change 'CMD ["node"]' - "$image" >/dev/null
docker run --rm --network=host "$image" node -e 'console.log("node " + process.version + " runs in the base image")' >&2
log "built $image"

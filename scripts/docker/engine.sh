#!/usr/bin/env bash
# Makes a Docker engine answer on this machine: installs Debian's docker.io when dockerd is missing and
# starts it without its own bridge or iptables rules (builds and containers then use --network=host).
# Idempotent; needs root for the install and the start.
set -euo pipefail

log() { printf '[docker-engine] %s\n' "$*" >&2; }

if docker info >/dev/null 2>&1; then
  log "engine already answers"
  exit 0
fi

if ! command -v dockerd >/dev/null 2>&1; then
  log "installing docker.io from Debian"
  export DEBIAN_FRONTEND=noninteractive
  # Without the caller's descriptors: a daemon the package's scripts may start must not hold a CI log open.
  apt-get update -qq </dev/null >/var/log/berth-docker-install.log 2>&1 || { tail -n 50 /var/log/berth-docker-install.log >&2; exit 1; }
  apt-get install -y -qq docker.io </dev/null >>/var/log/berth-docker-install.log 2>&1 || { tail -n 50 /var/log/berth-docker-install.log >&2; exit 1; }
fi

log "starting dockerd"
mkdir -p /var/log
nohup dockerd --bridge=none --iptables=false --ip6tables=false </dev/null >/var/log/berth-dockerd.log 2>&1 &
for _ in $(seq 1 60); do
  if docker info >/dev/null 2>&1; then
    log "engine answers"
    exit 0
  fi
  sleep 1
done
log "dockerd did not answer within 60 s; its log:"
tail -n 50 /var/log/berth-dockerd.log >&2 || true
exit 1

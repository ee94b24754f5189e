#!/usr/bin/env bash
# Installs the servers the tests start on loopback, when missing:
#   redis-server and redis-cli (Debian package redis-server) for the Redis state back-end,
#   moto's S3 server (PyPI package moto[server]) for the S3 state back-end,
#   PostgreSQL (Debian package postgresql: initdb, postgres, psql) for the PostgreSQL store.
set -euo pipefail
sudo_if_needed() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }
if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
  echo "installing redis-server (apt)…" >&2
  sudo_if_needed apt-get update -qq
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
fi
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "installing postgresql (apt)…" >&2
  sudo_if_needed apt-get update -qq
  # Only the programs: the tests start their own server on loopback, not the packaged cluster.
  sudo_if_needed env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
if ! python3 -c 'import moto.server, flask' 2>/dev/null; then
  echo "installing moto[server] (pip)…" >&2
  if [ "$(id -u)" -eq 0 ]; then
    python3 -m pip install -q 'moto[server]'
  else
    python3 -m pip install -q --user 'moto[server]'
  fi
fi

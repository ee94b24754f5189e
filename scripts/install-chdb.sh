#!/usr/bin/env bash
# Installs chDB (ClickHouse built as a library; PyPI package chdb-core, module `chdb`) when missing.
# crates/flowlake-testkit/harness/clickhouse_http.py serves ClickHouse's HTTP interface from it.
# The harness needs Session.send_insert (streaming, binary-safe INSERT bodies).
set -euo pipefail
CHDB_CORE_VERSION=26.9.0   # tested with: ClickHouse engine 26.9.2.1
if ! python3 -c 'from chdb import session; session.Session.send_insert' 2>/dev/null; then
  echo "installing chdb-core==${CHDB_CORE_VERSION} (pip)…" >&2
  args=(-m pip install -q "chdb-core==${CHDB_CORE_VERSION}")
  if [ "$(id -u)" -ne 0 ]; then args+=(--user); fi
  if ! out=$(python3 "${args[@]}" 2>&1); then
    if grep -q externally-managed-environment <<<"$out"; then
      python3 "${args[@]}" --break-system-packages
    else
      printf '%s\n' "$out" >&2
      exit 1
    fi
  fi
fi

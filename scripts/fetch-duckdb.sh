#!/usr/bin/env bash
# Puts a prebuilt libduckdb.so (1.5.5, with ICU, JSON and Parquet built in) into .duckdb/lib, where
# .cargo/config.toml points the duckdb crate (DUCKDB_LIB_DIR) and the binaries' rpath.
# Building DuckDB's C++ from source takes over 20 minutes on two cores; this takes seconds.
# The library comes from the npm registry package that DuckDB's own Node.js bindings ship.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lib_dir="$root/.duckdb/lib"
version="1.5.5-r.5"
stamp="$lib_dir/.version"
if [[ -f "$lib_dir/libduckdb.so" && "$(cat "$stamp" 2>/dev/null)" == "$version" ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-duckdb: npm is needed to fetch libduckdb (apt-get install npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-duckdb: fetching libduckdb $version" >&2
(cd "$tmp" && npm pack --silent "@duckdb/node-bindings-linux-x64@$version" >/dev/null)
tar -xzf "$tmp"/*.tgz -C "$tmp" package/libduckdb.so
mkdir -p "$lib_dir"
mv "$tmp/package/libduckdb.so" "$lib_dir/libduckdb.so"
echo "$version" > "$stamp"

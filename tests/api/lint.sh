#!/usr/bin/env bash
# Lint the control API's OpenAPI document (sim/ctl/openapi.json) with
# @redocly/cli, at the version and integrity hash of package-lock.json
# beside this script, installed into BUILD_DIR/npm-api (quiet when it is
# there already; never committed).
# Usage: tests/api/lint.sh BUILD_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=$(cd "${1:?usage: tests/api/lint.sh BUILD_DIR}" && pwd)
dir=$build/npm-api
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true
command -v npm >/dev/null || { echo "lint.sh: npm not found (Debian: nodejs, npm)" >&2; exit 1; }
mkdir -p "$dir"
if [ ! -x "$dir/node_modules/.bin/redocly" ] ||
   ! cmp -s "$here/package-lock.json" "$dir/package-lock.json"; then
  cp "$here/package.json" "$here/package-lock.json" "$dir/"
  out=$(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error 2>&1) ||
    { echo "$out" >&2; exit 1; }
fi
# the whole report on failure, one line otherwise
if out=$("$dir/node_modules/.bin/redocly" lint --config "$here/redocly.yaml" \
    "$root/sim/ctl/openapi.json" 2>&1); then
  ver=$(node -p 'require(process.argv[1]).packages["node_modules/@redocly/cli"].version' \
    "$here/package-lock.json")
  echo "sim/ctl/openapi.json: @redocly/cli $ver lint (recommended-strict): valid"
else
  echo "$out" >&2
  exit 1
fi

#!/usr/bin/env bash
# The HTTP layer reaches storage only through the service: no storage crate, no Service::store().
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(grep -rnE 'riskdesk_store(_sqlite|_postgres|_sql)?\b|\.store\(\)' crates/server/src/http || true)
if [ -n "$bad" ]; then
  echo "crates/server/src/http must reach storage only through the service, but:"
  echo "$bad"
  exit 1
fi
echo "http layer: ok (no storage crate, no Service::store())"

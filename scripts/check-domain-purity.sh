#!/usr/bin/env bash
# The domain crate stays pure: no async runtime, no HTTP, no SQL anywhere in its dependency tree.
set -euo pipefail
cd "$(dirname "$0")/.."
forbidden='^(tokio|async-std|smol|futures|futures-[a-z-]+|mio|hyper|axum|tower|tower-http|reqwest|http|sqlx|sqlx-[a-z-]+|rusqlite|libsqlite3-sys|postgres|tokio-postgres|diesel|sea-orm)$'
deps=$(cargo tree -p riskdesk-domain --all-features -e normal,build --prefix none --format '{p}' | awk '{print $1}' | sort -u)
bad=$(echo "$deps" | grep -E "$forbidden" || true)
if [ -n "$bad" ]; then
  echo "riskdesk-domain must stay pure, but depends on: $bad"
  exit 1
fi
echo "domain purity: ok ($(echo "$deps" | wc -l) crates, none async, HTTP or SQL)"

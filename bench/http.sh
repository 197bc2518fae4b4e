#!/usr/bin/env bash
# POST /api/v1/orders (screened and stored) against the real release server on loopback with wrk.
# Usage: bench/http.sh [sqlite|postgres] [seconds] [connections...]
# RECORD_ONLY=1 measures the store-only path (screening.record_only: stored, approved unscreened).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}; secs=${2:-30}; shift 2 || true
conns_list=("${@:-8 16 32}"); [ $# -eq 0 ] && conns_list=(8 16 32)
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
# BIN=path compares another build side by side (default: the release build of this tree)
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
dir=$(mktemp -d); port=18080
args=(--data-dir "$dir")
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
key=$($bin "${args[@]}" apikey create --name bench --scope intake 2>/dev/null)
record=false; [ -n "${RECORD_ONLY:-}" ] && record=true
RISKDESK_SCREENING__RECORD_ONLY=$record RUST_LOG=warn $bin "${args[@]}" serve --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
curl -s http://127.0.0.1:$port/healthz; echo
# warm-up, then one measured run per connection count
RISKDESK_KEY=$key RUN_ID=warm wrk -t2 -c8 -d5s -s bench/post-orders.lua http://127.0.0.1:$port >/dev/null
for conns in "${conns_list[@]}"; do
  echo -n "$backend connections=$conns "
  RISKDESK_KEY=$key RUN_ID="run$conns" wrk -t2 -c"$conns" -d"${secs}s" -s bench/post-orders.lua http://127.0.0.1:$port | grep RESULT
done

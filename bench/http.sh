#!/usr/bin/env bash
# POST /api/v1/orders (screened and stored) against the real release server on loopback with wrk.
# Usage: bench/http.sh [sqlite|postgres] [seconds] [connections...]
# RECORD_ONLY=1 measures the store-only path (screening.record_only: stored, approved unscreened).
# ENCRYPTION=off stores personal fields plain (encryption.enabled = false); the default seals them.
# FROM_DB=dir (SQLite) serves a fresh copy of that data directory instead of an empty one, e.g.
# a million imported orders: riskdesk --data-dir bench-out/db1m import orders bench-out/1000000/orders.jsonl
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}; secs=${2:-30}; shift 2 || true
conns_list=("${@:-8 16 32}"); [ $# -eq 0 ] && conns_list=(8 16 32)
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
# BIN=path compares another build side by side (default: the release build of this tree)
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
dir=$(mktemp -d); port=18080
[ -n "${FROM_DB:-}" ] && cp -r "$FROM_DB"/. "$dir"/
args=(--data-dir "$dir")
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
export RISKDESK_ENCRYPTION__ENABLED=true; [ "${ENCRYPTION:-on}" = off ] && export RISKDESK_ENCRYPTION__ENABLED=false
key=$($bin "${args[@]}" apikey create --name bench --scope intake 2>/dev/null)
record=false; [ -n "${RECORD_ONLY:-}" ] && record=true
RISKDESK_SCREENING__RECORD_ONLY=$record RUST_LOG=warn $bin "${args[@]}" serve --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for _ in $(seq 50); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
curl -s http://127.0.0.1:$port/healthz; echo
# warm-up, then one measured run per connection count
RISKDESK_KEY=$key RUN_ID=warm wrk -t2 -c8 -d5s -s bench/post-orders.lua http://127.0.0.1:$port >/dev/null
# The order writer's busy time and items so far (cumulative on /metrics): a run's difference gives
# the writer's time per stored order and the mean group-commit size, which move much less with
# machine noise than the rate does.
writer() {
  curl -s http://127.0.0.1:$port/metrics | awk -v w="$1" '
    $1 == "riskdesk_group_commit_seconds_sum{writer=\"" w "\"}" { s = $2 }
    $1 == "riskdesk_group_commit_items_sum{writer=\"" w "\"}" { i = $2 }
    $1 == "riskdesk_group_commit_items_count{writer=\"" w "\"}" { n = $2 }
    END { printf "%s %s %s\n", s + 0, i + 0, n + 0 }'
}
w=orders; [ "$record" = false ] && w=screened_orders
for conns in "${conns_list[@]}"; do
  echo -n "$backend connections=$conns "
  before=$(writer $w)
  result=$(RISKDESK_KEY=$key RUN_ID="run$conns" wrk -t2 -c"$conns" -d"${secs}s" -s bench/post-orders.lua http://127.0.0.1:$port | grep RESULT)
  echo "$result $(echo "$before $(writer $w)" | awk '$5 > $2 { printf "writer_us_per_order=%.0f batch=%.1f", ($4 - $1) / ($5 - $2) * 1e6, ($5 - $2) / ($6 - $3) }')"
done

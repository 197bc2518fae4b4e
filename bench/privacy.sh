#!/usr/bin/env bash
# Privacy operations in a store of N orders (default 1,000,000) and their events, placed in 2017
# so that all of them are past the 8-year accounting retention: for five people (the customers
# of five orders spread over the file) the access package job and the erasure job, then one
# retention sweep anonymising every expired order (records/s). The jobs are timed in process
# (crates/server/examples/privacy_bench.rs); identity, proposal and approval are not timed.
# Usage: bench/privacy.sh [sqlite|postgres] [orders]
# ENCRYPTION=off loads and runs with personal fields stored plain (encryption.enabled = false).
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
n=${2:-1000000}
cargo build --release -q -p riskdesk-server --bin riskdesk --example privacy_bench
bin=target/release/riskdesk
out=bench-out/privacy-$n; mkdir -p "$out"
if [ ! -f "$out/orders.jsonl" ]; then
  $bin demo --customers $((n / 10)) --orders "$n" --days 180 --until 2017-07-01T00:00:00Z --export "$out" >/dev/null
fi
dir=$(mktemp -d -p "${BENCH_DIR:-/tmp}")
args=(--data-dir "$dir"); url=""
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_privacy_$$"; url="postgres://postgres@127.0.0.1:5432/$db"; args+=(--database-url "$url")
fi
cleanup() { rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; true; }
trap cleanup EXIT
export RISKDESK_ENCRYPTION__ENABLED=true; cache=loaded-$backend
[ "${ENCRYPTION:-on}" = off ] && export RISKDESK_ENCRYPTION__ENABLED=false && cache=loaded-$backend-plain
# The loaded store is kept, so later runs start from a copy: the SQLite directory in $out/$cache;
# on PostgreSQL a template database (copied by CREATE DATABASE … TEMPLATE) and the data
# directory's key files in $out/$cache.
tpl="riskdesk_bench_privacy_${n}_${cache//-/_}"
have_tpl() { psql -h 127.0.0.1 -U postgres -Atc "SELECT 1 FROM pg_database WHERE datname = '$tpl'" | grep -q 1; }
if [ -d "$out/$cache" ] && { [ "$backend" = sqlite ] || have_tpl; }; then
  cp "$out/$cache/"* "$dir/"
  [ "$backend" = postgres ] && psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db TEMPLATE $tpl"
else
  [ "$backend" = postgres ] && psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  echo -n "orders: "; RUST_LOG=error $bin "${args[@]}" import orders "$out/orders.jsonl" --no-progress
  echo -n "events: "; RUST_LOG=error $bin "${args[@]}" import events "$out/events.jsonl" --no-progress
  rm -rf "$out/$cache"; mkdir -p "$out/$cache"; cp "$dir/"* "$out/$cache/"
  if [ "$backend" = postgres ]; then
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $tpl" -c "CREATE DATABASE $tpl TEMPLATE $db"
  fi
fi
people=$(awk -v n="$n" 'NR % int(n / 5) == 17 { match($0, /"customer_id": *"[^"]*"/); s = substr($0, RSTART, RLENGTH); sub(/.*: *"/, "", s); sub(/"$/, "", s); print s }' "$out/orders.jsonl" | head -5)
RUST_LOG=error target/release/examples/privacy_bench "$dir" $url $people

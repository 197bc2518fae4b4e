#!/usr/bin/env bash
# Import of N orders (default 1,000,000) from JSONL into a fresh SQLite and a fresh PostgreSQL database.
# Usage: bench/import.sh [orders]
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
cargo build --release -q -p riskdesk-server
bin=target/release/riskdesk
out=bench-out/$n; mkdir -p "$out"
if [ ! -f "$out/orders.jsonl" ]; then
  $bin demo --customers $((n / 10)) --orders "$n" --export "$out" >/dev/null
fi
echo "file: $(wc -l < "$out/orders.jsonl") lines, $(du -h "$out/orders.jsonl" | cut -f1)"
dir=$(mktemp -d)
echo -n "sqlite:   "; RUST_LOG=error $bin --data-dir "$dir" import orders "$out/orders.jsonl" --no-progress
db="riskdesk_bench_import_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
echo -n "postgres: "; RUST_LOG=error $bin --data-dir "$dir" --database-url "postgres://postgres@127.0.0.1:5432/$db" import orders "$out/orders.jsonl" --no-progress
psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
rm -rf "$dir"

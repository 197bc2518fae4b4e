#!/usr/bin/env bash
# Import of N orders (default 1,000,000) from JSONL into a fresh SQLite and a fresh PostgreSQL database.
# Usage: bench/import.sh [orders]
# BIN=path measures another build (side by side: run the script once per build);
# BACKENDS="sqlite" or "postgres" measures one backend only.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
out=bench-out/$n; mkdir -p "$out"
if [ ! -f "$out/orders.jsonl" ]; then
  $bin demo --customers $((n / 10)) --orders "$n" --export "$out" >/dev/null
fi
echo "file: $(wc -l < "$out/orders.jsonl") lines, $(du -h "$out/orders.jsonl" | cut -f1)"
for backend in ${BACKENDS:-sqlite postgres}; do
  dir=$(mktemp -d)
  if [ "$backend" = sqlite ]; then
    echo -n "sqlite:   "; RUST_LOG=error $bin --data-dir "$dir" import orders "$out/orders.jsonl" --no-progress
  else
    db="riskdesk_bench_import_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
    echo -n "postgres: "; RUST_LOG=error $bin --data-dir "$dir" --database-url "postgres://postgres@127.0.0.1:5432/$db" import orders "$out/orders.jsonl" --no-progress
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"
  fi
  rm -rf "$dir"
done

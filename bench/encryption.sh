#!/usr/bin/env bash
# Intake (record-only: stored, not screened) and full decisions over HTTP with personal fields
# sealed (encryption on) and stored plain (off), side by side: ROUNDS rounds, each running the
# four variants one after another on a fresh SQLite database, so machine noise falls on all alike.
# Usage: bench/encryption.sh [seconds] [rounds] [connections]   (rounds 0: only the re-sealing below)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}; rounds=${2:-3}; conns=${3:-8}
cargo build --release -q -p riskdesk-server
for r in $(seq "$rounds"); do
  for path in intake decision; do
    for enc in on off; do
      if [ "$path" = intake ]; then ro=1; else ro=; fi
      line=$(RECORD_ONLY=$ro ENCRYPTION=$enc BIN=target/release/riskdesk bench/http.sh sqlite "$secs" "$conns" | grep RESULT)
      echo "round=$r path=$path encryption=$enc $line"
    done
  done
done
# Re-sealing after a rotation, on a copy of the loaded million-order store of bench/privacy.sh
# (run that first): every sealed value of every table opened and sealed under the new key.
from=${RESEAL_FROM:-bench-out/privacy-1000000/loaded-sqlite}
if [ -d "$from" ]; then
  dir=$(mktemp -d -p "${BENCH_DIR:-/tmp}"); trap 'rm -rf "$dir"' EXIT
  cp "$from"/* "$dir"/
  start=$(date +%s.%N)
  RUST_LOG=warn target/release/riskdesk --data-dir "$dir" encryption rotate | tail -1
  echo "reseal: $(echo "$(date +%s.%N) - $start" | bc) s"
fi

#!/usr/bin/env bash
# How crates/store/src/body-dict-v1.zdict was made: a zstd dictionary trained on 8,000 stored
# order bodies of the demo history (a million orders, default seed), one in 97 by rowid.
# A dictionary in use never changes (rows packed with it need it); a new one gets a new tag
# in crates/store/src/body.rs. Needs the `zstd` and `sqlite3` command-line tools.
# Usage: BIN=path bench/train-body-dict.sh OUT, where BIN is a build that stores bodies as JSON
# text (34d31df, the last before packing; build it in a `git worktree`).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/train-body-dict.sh OUT}
bin=${BIN:?BIN must be a build that stores bodies as JSON text}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
$bin demo --customers 100000 --orders 1000000 --export "$work/demo" >/dev/null
$bin --data-dir "$work/db" import orders "$work/demo/orders.jsonl" --no-progress
mkdir "$work/samples"
sqlite3 "$work/db/riskdesk.db" "SELECT body FROM orders WHERE rowid % 97 = 0 AND typeof(body) = 'text' LIMIT 8000" \
  | split -l 1 -a 5 - "$work/samples/"
zstd -q --train "$work"/samples/* -o "$out" --maxdict=32768
ls -l "$out"

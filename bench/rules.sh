#!/usr/bin/env bash
# Rule evaluation alone, riskdesk and GoRules ZEN side by side in one run: the same 50 rules
# (bench/rules-50.json) over the same 1,000 orders (bench/orders-1000.json), one core each.
# The ZEN crate builds outside the workspace (about 14 minutes the first time, 355 crates).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo bench -q -p riskdesk-rules --bench eval -- --warm-up-time 2 --measurement-time 10 2>&1 | grep -E "hits|^rules|thrpt:"
(cd bench/zen-compare && cargo run -q --release -j 1) | tail -3

#!/usr/bin/env bash
# Backtest over N stored orders (default 1,000,000) and their events, through the real release
# server: the first backtest builds the frame index (one replay of the history), the following
# ones judge the stored frames only. Prints wall times (curl) and what the server reports.
# Usage: bench/backtest.sh [orders] [warm runs]   (BACKEND=postgres for a fresh PostgreSQL database)
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-1000000}; runs=${2:-5}
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
out=bench-out/$n; mkdir -p "$out"
[ -f "$out/events.jsonl" ] || $bin demo --customers $((n / 10)) --orders "$n" --export "$out" >/dev/null
dir=$(mktemp -d); port=18081
args=(--data-dir "$dir")
if [ "${BACKEND:-sqlite}" = postgres ]; then
  db="riskdesk_bench_bt_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  args+=(--database-url "postgres://postgres@127.0.0.1:5432/$db")
fi
trap 'kill ${pid:-0} 2>/dev/null; wait ${pid:-0} 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
RUST_LOG=error $bin "${args[@]}" import orders "$out/orders.jsonl" --no-progress >/dev/null
RUST_LOG=error $bin "${args[@]}" import events "$out/events.jsonl" --no-progress >/dev/null
key=$($bin "${args[@]}" apikey create --name bench --scope read --scope rules 2>/dev/null | tail -1)
RUST_LOG=info $bin "${args[@]}" serve --listen 127.0.0.1:$port 2>"$dir/server.log" >/dev/null &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
echo "history: $(wc -l < "$out/orders.jsonl") orders, $(wc -l < "$out/events.jsonl") events"
# The candidate: the starter pack (live as version 1) with other thresholds.
sed -e 's/^review_at = 50/review_at = 45/' -e 's/^decline_at = 85/decline_at = 90/' rules/starter-fashion.toml \
  | jq -Rs '{source: .}' > "$dir/candidate.json"
run() { # label, path, [body]
  : > "$dir/bt.json"
  local wall
  wall=$(curl -s -o "$dir/bt.json" -w '%{time_total}' -X POST -H "Authorization: Bearer $key" \
    -H 'content-type: application/json' ${3:+--data-binary @"$3"} "http://127.0.0.1:$port$2")
  jq -r --arg l "$1" --arg w "$wall" \
    '"\($l): wall \($w) s, judged \(.orders) orders in \(.replay_seconds * 1000 | floor) ms, index built=\(.index.built) lists=\(.index.lists_refreshed) appended=\(.index.appended_orders) approx=\(.index.approximate_rows) (load+build \(.load_seconds * 10 | floor / 10) s, \(.index.memory_bytes / 1e6 | floor) MB), candidate flagged \(.candidate.flagged), live flagged \(.live.flagged)"' \
    "$dir/bt.json" || { echo "$1: failed:"; head -c 600 "$dir/bt.json"; echo; }
}
run "first, version 1 vs live" /api/v1/rulesets/1/backtest
for i in $(seq "$runs"); do run "warm $i, draft vs live" /api/v1/rulesets/backtest "$dir/candidate.json"; done
# New orders, later than all history, stored by another process while the server runs: the
# next backtest appends them to the index.
for batch in 1000:01 10000:02; do
  python3 - "$out/orders.jsonl" "$dir/new.jsonl" "${batch%:*}" "${batch#*:}" <<'PY'
import json, sys, uuid
src, dst, n, month = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with open(src) as f, open(dst, "w") as out:
    for i in range(n):
        o = json.loads(next(f))
        o["order_id"] = "NEW-" + uuid.uuid4().hex
        o["placed_at"] = "2030-%s-%02dT%02d:%02d:%02dZ" % (month, 1 + i // 86400, i // 3600 % 24, i // 60 % 60, i % 60)
        out.write(json.dumps(o) + "\n")
PY
  RUST_LOG=error $bin "${args[@]}" import orders "$dir/new.jsonl" --no-progress >/dev/null
  run "after ${batch%:*} new orders" /api/v1/rulesets/backtest "$dir/candidate.json"
done
# A list change: only the list columns are computed again.
curl -sf -o /dev/null -X POST -H "Authorization: Bearer $key" -H 'content-type: application/json' \
  --data '[{"list":"block","kind":"ip","value":"128.0.0.0/1","reason":"bench"},{"list":"block","kind":"email_domain","value":"example.com","reason":"bench"}]' \
  "http://127.0.0.1:$port/api/v1/lists"
sleep 1
run "after a list change" /api/v1/rulesets/backtest "$dir/candidate.json"
echo "server peak RSS: $(awk '/VmHWM/ {print $2 / 1024 " MB"}' /proc/$pid/status), now $(awk '/VmRSS/ {print $2 / 1024 " MB"}' /proc/$pid/status)"

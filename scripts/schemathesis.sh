#!/usr/bin/env bash
# The API document against the real server: schemathesis (examples, coverage, fuzzing and the
# stateful phase, a bounded budget, a fixed seed) on a small demo, once with a machine key holding
# every scope and once with a personal access token of each of a team lead, a privacy officer and
# the admin, so that the operations only people may call are reached too. Any failure fails.
#
# Checked: every check, so also that requests the document calls valid are accepted and ones
# it calls invalid refused. `schemathesis.toml` names the few operations that may also refuse a
# valid-looking request, each for a rule no schema can state (a date relative to today, a code
# sent by mail, a rule file that must compile, …).
set -euo pipefail
cd "$(dirname "$0")/.."
version=4.32.5
if ! command -v schemathesis >/dev/null || [ "$(schemathesis --version | awk '{print $NF}')" != "$version" ]; then
  python3 -m pip install -q "schemathesis==$version" 2>&1 | grep -v "running pip as the 'root' user" || true
fi
cargo build -q -p riskdesk-server --bin riskdesk
bin="${CARGO_TARGET_DIR:-target}/debug/riskdesk"
dir=$(mktemp -d)
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
cleanup() { kill "${pid:-}" 2>/dev/null || true; wait "${pid:-}" 2>/dev/null || true; rm -rf "$dir"; }
trap cleanup EXIT
run() { RUST_LOG=error RISKDESK_DATABASE_URL= "$bin" --data-dir "$dir" "$@"; }
run demo --customers 300 --orders 2000 --days 30 --screen-days 5 --no-serve >/dev/null 2>&1
key=$(run apikey create --name schemathesis --scope intake --scope read --scope rules --scope cases \
  --scope disputes --scope qa --scope kpis --scope privacy 2>/dev/null | grep -oE 'rdk_[0-9a-f]+' | head -n1)
secrets=("$key")
for user in lea pia admin; do
  secrets+=("$(run user token create "$user" --name schemathesis 2>/dev/null | grep -oE 'rdp_[A-Za-z0-9_-]+' | head -n1)")
done
# Started directly (not through `run`), so that `$!` is the server itself and the trap stops it.
RUST_LOG=error RISKDESK_DATABASE_URL= "$bin" --data-dir "$dir" serve --listen "127.0.0.1:$port" >/dev/null 2>&1 &
pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
curl -sf "http://127.0.0.1:$port/healthz" >/dev/null || { echo "schemathesis: the server did not start"; exit 1; }
status=0
for s in "${secrets[@]}"; do
  [ -n "$s" ] || { echo "schemathesis: a key or token could not be made"; exit 1; }
  echo "schemathesis as ${s:0:4}…"
  schemathesis --config-file scripts/schemathesis.toml run "http://127.0.0.1:$port/api/v1/openapi.json" --checks all \
    -H "Authorization: Bearer $s" --max-examples 10 --workers 1 --seed 1 --no-color \
    | tail -n 25 || status=1
done
exit $status

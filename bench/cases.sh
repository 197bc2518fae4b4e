#!/usr/bin/env bash
# Cases at volume: 10,000 open and 200,000 closed cases (three timeline entries and two links
# each) beside a demo history; then the team queue, a case page and the order-flow monitor,
# as pages and as API calls, each requested 40 times on loopback: median and p95 in ms
# (curl's time to the last byte, so the server's time plus a loopback round trip).
# Usage: bench/cases.sh [sqlite|postgres]     BIN=path measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
dir=$(mktemp -d); port=18090
args=(--data-dir "$dir")
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_cases_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  url="postgres://postgres@127.0.0.1:5432/$db"; args+=(--database-url "$url")
  sql() { psql "$url" -q -v ON_ERROR_STOP=1 -c "$1"; }
else
  sql() { sqlite3 "$dir/riskdesk.db" "$1"; }
fi
cleanup() { kill "${pid:-}" 2>/dev/null; wait "${pid:-}" 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; true; }
trap cleanup EXIT
out=$(RUST_LOG=error $bin "${args[@]}" demo --customers 2000 --orders 20000 --days 60 --screen-days 10 --no-serve 2>/dev/null)
password=$(echo "$out" | awk '/sign in as lea /{print $NF}')
[ "$backend" = sqlite ] && ls "$dir"/*.db >/dev/null
now=$(date +%s%3N)
echo "seeding 210,000 cases…"
t0=$(date +%s)
sql "INSERT INTO cases (id, kind, title, description, priority, priority_rank, status, is_open, team, owner, opened_by, source, source_ref,
  open_key, created_at, updated_at, first_response_at, first_response_due_at, resolution_due_at, paused_secs, paused_since, resolution,
  summary, resolved_at, closed_at, warned_at, escalated_at, reopened, version)
WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < 210000)
SELECT 'cas_bench_' || i,
  CASE i % 4 WHEN 0 THEN 'fraud_investigation' WHEN 1 THEN 'tier2_escalation' WHEN 2 THEN 'refund_claim' ELSE 'account_takeover' END,
  'Bench case ' || i, '', 'normal', 1,
  CASE WHEN i <= 10000 THEN 'investigating' ELSE 'closed' END, CASE WHEN i <= 10000 THEN 1 ELSE 0 END,
  CASE i % 4 WHEN 0 THEN 'fraud' WHEN 1 THEN 'risk' WHEN 2 THEN 'payments' ELSE 'fraud' END,
  CASE WHEN i % 10 = 0 THEN 'ana' ELSE NULL END, 'user:tia', NULL, NULL, NULL,
  $now - i * 60000, $now - i * 60000, NULL, $now - i * 60000 + 14400000, $now + (i % 500) * 3600000 - 7200000, 0, NULL,
  CASE WHEN i <= 10000 THEN NULL ELSE 'no_fraud' END, CASE WHEN i <= 10000 THEN NULL ELSE 'done' END,
  CASE WHEN i <= 10000 THEN NULL ELSE $now END, CASE WHEN i <= 10000 THEN NULL ELSE $now END, NULL, NULL, 0, 1
FROM n"
sql "INSERT INTO case_events (case_id, at, actor, kind, text) SELECT id, created_at, 'user:tia', 'opened', 'Opened as a bench case' FROM cases WHERE id LIKE 'cas_bench_%'"
sql "INSERT INTO case_events (case_id, at, actor, kind, text) SELECT id, created_at + 60000, 'user:ana', 'note', 'Checked the orders and the linked accounts.' FROM cases WHERE id LIKE 'cas_bench_%'"
sql "INSERT INTO case_events (case_id, at, actor, kind, text) SELECT id, created_at + 120000, 'user:ana', 'status', 'New → Investigating' FROM cases WHERE id LIKE 'cas_bench_%'"
sql "INSERT INTO case_links (case_id, kind, value, added_by, added_at) SELECT id, 'customer', 'C-B' || (CAST(SUBSTR(id, 11) AS INTEGER) % 2000), 'user:tia', created_at FROM cases WHERE id LIKE 'cas_bench_%'"
sql "INSERT INTO case_links (case_id, kind, value, added_by, added_at) SELECT id, 'order', 'O-B' || SUBSTR(id, 11), 'user:tia', created_at FROM cases WHERE id LIKE 'cas_bench_%'"
[ "$backend" = postgres ] && sql "ANALYZE" || sql "ANALYZE"
echo "seeded in $(( $(date +%s) - t0 )) s"
token=$(RUST_LOG=error $bin "${args[@]}" user token create lea --name bench 2>/dev/null | awk "/secret/{print \$NF}")
RUST_LOG=warn $bin "${args[@]}" serve --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
jar=$(mktemp)
curl -s -c "$jar" -o /dev/null -d "username=lea&password=$password&next=/" http://127.0.0.1:$port/login
measure() { # name, then curl arguments
  local name=$1; shift
  for i in $(seq 45); do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@"; done | tail -n 40 | sort -k2 -n | awk -v n="$name" '
    { if ($1 != 200) bad++; t[NR] = $2 * 1000 }
    END { printf "%-34s median %6.1f ms   p95 %6.1f ms%s\n", n, t[int(NR / 2) + 1], t[int(NR * 0.95)], bad ? "   NON-200: " bad : "" }'
}
echo "$backend: 10,000 open and 200,000 closed cases"
measure "page  /cases (team queue)" -b "$jar" "http://127.0.0.1:$port/cases?view=team&team=fraud"
measure "page  /cases/{id} (case page)" -b "$jar" "http://127.0.0.1:$port/cases/cas_bench_4"
measure "page  /exceptions" -b "$jar" "http://127.0.0.1:$port/exceptions"
measure "api   GET /cases?team=fraud" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/cases?team=fraud"
measure "api   GET /cases/{id}" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/cases/cas_bench_4"
measure "api   GET /exceptions" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/exceptions"
rm -f "$jar"

#!/usr/bin/env bash
# KPIs at volume: 10,000,000 orders over a year (decisions, review actions for the reviewed,
# 1 % fraud labels) and 1,000,000 cases, written by SQL into a fresh database; the database's
# triggers mark every order, `riskdesk kpis refresh` counts them (orders/s), then the dashboard
# page and the KPI API calls are each requested 40 times on loopback: median and p95 in ms
# (curl's time to the last byte: the server's time plus a loopback round trip).
# Usage: bench/kpis.sh [sqlite|postgres] [orders]     BIN=path measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
n=${2:-10000000}
cases=$(( n / 10 ))
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
dir=$(mktemp -d -p "${BENCH_DIR:-/tmp}"); port=18091
args=(--data-dir "$dir")
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_kpis_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  url="postgres://postgres@127.0.0.1:5432/$db"; args+=(--database-url "$url")
  sql() { psql "$url" -q -v ON_ERROR_STOP=1 -c "$1"; }
  iso() { echo "to_char(to_timestamp(($1) / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"; }
  series="generate_series(1::bigint, $n) AS g(i)"
  cases_series="generate_series(1::bigint, $cases) AS g(i)"
  pad2() { echo "lpad((($1) % 100)::text, 2, '0')"; }
  json_cast="::jsonb"; blob="''::bytea"; body_open="convert_to("; body_close=", 'UTF8')"
else
  sql() { sqlite3 "$dir/riskdesk.db" "PRAGMA journal_mode=WAL; PRAGMA synchronous=OFF; $1" >/dev/null; }
  iso() { echo "strftime('%Y-%m-%dT%H:%M:%SZ', ($1) / 1000, 'unixepoch')"; }
  series="(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $n) SELECT i FROM s) AS g"
  cases_series="(WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < $cases) SELECT i FROM s) AS g"
  json_cast=""; blob="x''"; body_open=""; body_close=""
  pad2() { echo "printf('%02d', ($1) % 100)"; }
fi
cleanup() { kill "${pid:-}" 2>/dev/null; wait "${pid:-}" 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; true; }
trap cleanup EXIT
RUST_LOG=error $bin "${args[@]}" migrate >/dev/null
echo bench-password-1 | RUST_LOG=error $bin "${args[@]}" user add lea --role team_lead --password-stdin >/dev/null
now=$(date +%s%3N)
span=$(( 365 * 86400000 / n ))
# Order i: placed i spans before now; channel, country, method and brand cycle at different
# strides; every 3rd hits a rule, every 50th goes to review (80 % released), every 200th is
# declined, 1 % are labelled fraud.
p="($now - g.i * $span)"
echo "seeding $n orders and $cases cases…"
t0=$(date +%s)
sql "INSERT INTO orders (order_id, customer_id, placed_at, channel, total_minor, currency, payment_method, body, entities, received_at)
SELECT 'B-' || g.i, 'C-' || (g.i % 1000000), $p,
  CASE g.i % 4 WHEN 0 THEN 'webshop' WHEN 1 THEN 'app' WHEN 2 THEN 'amazon' ELSE 'zalando' END,
  2000 + (g.i * 37) % 30000, 'EUR',
  CASE (g.i / 3) % 5 WHEN 0 THEN 'card' WHEN 1 THEN 'paypal' WHEN 2 THEN 'invoice' WHEN 3 THEN 'bnpl' ELSE 'sepa_debit' END,
  $body_open('{\"order_id\":\"B-' || g.i || '\",\"placed_at\":\"' || $(iso "$p") || '\",\"channel\":\"' ||
   CASE g.i % 4 WHEN 0 THEN 'webshop' WHEN 1 THEN 'app' WHEN 2 THEN 'amazon' ELSE 'zalando' END ||
   '\",\"customer\":{\"customer_id\":\"C-' || (g.i % 1000000) || '\"},\"total\":{\"amount\":\"' || ((2000 + (g.i * 37) % 30000) / 100) || '.' ||
 $(pad2 "2000 + (g.i * 37) % 30000") || '\",\"currency\":\"EUR\"},\"items\":[{\"brand\":\"Brand' || (g.i % 20) ||
   '\",\"quantity\":1}],\"payment\":{\"method\":\"' ||
   CASE (g.i / 3) % 5 WHEN 0 THEN 'card' WHEN 1 THEN 'paypal' WHEN 2 THEN 'invoice' WHEN 3 THEN 'bnpl' ELSE 'sepa_debit' END ||
   '\"},\"shipping_address\":{\"country\":\"' ||
   CASE (g.i / 7) % 8 WHEN 0 THEN 'DE' WHEN 1 THEN 'AT' WHEN 2 THEN 'FR' WHEN 3 THEN 'NL' WHEN 4 THEN 'IT' WHEN 5 THEN 'ES' WHEN 6 THEN 'PL' ELSE 'BE' END ||
   '\"}}')$body_close, $blob, $p + 50
FROM $series"
sql "INSERT INTO decisions (order_id, seq, verdict, score, ruleset_version, reasons, decided_at)
SELECT 'B-' || g.i, 0,
  CASE WHEN g.i % 50 = 0 THEN 'review' WHEN g.i % 200 = 1 THEN 'decline' ELSE 'approve' END,
  CASE WHEN g.i % 50 = 0 THEN 60 WHEN g.i % 200 = 1 THEN 90 ELSE 10 END, 1,
  (CASE WHEN g.i % 3 = 0 OR g.i % 50 = 0 THEN '[{\"rule\":\"rule_' || (g.i % 12) || '\",\"action\":\"score\",\"points\":30,\"detail\":\"\"}]' ELSE '[]' END)$json_cast,
  $p + 50
FROM $series"
sql "INSERT INTO decisions (order_id, seq, verdict, score, ruleset_version, reasons, decided_at)
SELECT 'B-' || g.i, 1, CASE WHEN g.i % 250 = 0 THEN 'decline' ELSE 'approve' END, 60, 1,
  ('[{\"rule\":\"manual_review\",\"action\":\"release\",\"points\":0,\"detail\":\"verified_customer\"}]')$json_cast, $p + 1800000
FROM $series WHERE g.i % 50 = 0"
sql "INSERT INTO review_actions (id, order_id, action, reason, note, actor, at, proposal_id)
SELECT 'rva_' || g.i, 'B-' || g.i, CASE WHEN g.i % 250 = 0 THEN 'cancel' ELSE 'release' END, 'verified_customer', '', 'user:lea', $p + 1800000, NULL
FROM $series WHERE g.i % 50 = 0"
sql "INSERT INTO events (event_id, type, occurred_at, order_id, customer_id, body, received_at)
SELECT 'E-' || g.i, 'fraud_confirmed', $p + 86400000, 'B-' || g.i, 'C-' || (g.i % 1000000),
  ('{\"event_id\":\"E-' || g.i || '\",\"type\":\"fraud_confirmed\",\"occurred_at\":\"' || $(iso "$p + 86400000") || '\",\"order_id\":\"B-' || g.i || '\",\"customer_id\":\"C-' || (g.i % 1000000) || '\",\"data\":{}}'),
  $p + 86400000
FROM $series WHERE g.i % 100 = 7"
c="($now - g.i * 31536)"
sql "INSERT INTO cases (id, kind, title, description, priority, tier, priority_rank, status, is_open, team, owner, opened_by, source, source_ref,
  open_key, created_at, updated_at, first_response_at, first_response_due_at, resolution_due_at, paused_secs, paused_since, resolution,
  summary, resolved_at, closed_at, warned_at, escalated_at, reopened, version)
SELECT 'cas_b' || g.i, 'fraud_investigation', 'Bench case', '', 'normal', 3, 1,
  CASE WHEN g.i % 10 = 0 THEN 'investigating' ELSE 'closed' END, CASE WHEN g.i % 10 = 0 THEN 1 ELSE 0 END, 'fraud', NULL, 'user:lea', NULL, NULL, NULL,
  $c, $c, $c + (g.i % 8) * 3600000, $c + 4 * 3600000, $c + 48 * 3600000, 0, NULL,
  CASE WHEN g.i % 10 = 0 THEN NULL ELSE 'no_fraud' END, CASE WHEN g.i % 10 = 0 THEN NULL ELSE 'done' END,
  CASE WHEN g.i % 10 = 0 THEN NULL ELSE $c + (g.i % 72) * 3600000 END, CASE WHEN g.i % 10 = 0 THEN NULL ELSE $c + (g.i % 72) * 3600000 END,
  NULL, NULL, 0, 1
FROM $cases_series"
sql "ANALYZE"
echo "seeded in $(( $(date +%s) - t0 )) s"
RUST_LOG=error $bin "${args[@]}" kpis refresh
token=$(RUST_LOG=error $bin "${args[@]}" user token create lea --name bench 2>/dev/null | awk "/secret/{print \$NF}")
RUST_LOG=warn $bin "${args[@]}" serve --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
jar=$(mktemp)
curl -s -c "$jar" -o /dev/null -d "username=lea&password=bench-password-1&next=/" http://127.0.0.1:$port/login
measure() { # name, then curl arguments
  local name=$1; shift
  for i in $(seq 45); do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@"; done | tail -n 40 | sort -k2 -n | awk -v n="$name" '
    { if ($1 != 200) bad++; t[NR] = $2 * 1000 }
    END { printf "%-44s median %7.1f ms   p95 %7.1f ms%s\n", n, t[int(NR / 2) + 1], t[int(NR * 0.95)], bad ? "   NON-200: " bad : "" }'
}
year_from=$(date -u -d '-364 days' +%F); today=$(date -u +%F)
auth=(-H "Authorization: Bearer $token")
echo "$backend, $n orders, $cases cases:"
measure "dashboard page (28 days)" -b "$jar" "http://127.0.0.1:$port/kpis"
measure "dashboard page (365 days, by channel)" -b "$jar" "http://127.0.0.1:$port/kpis?from=$year_from&to=$today&by=channel&period=month"
measure "API kpis by channel (365 days)" "${auth[@]}" "http://127.0.0.1:$port/api/v1/kpis?from=$year_from&to=$today&by=channel"
measure "API kpis by segment (365 days)" "${auth[@]}" "http://127.0.0.1:$port/api/v1/kpis?from=$year_from&to=$today&by=segment"
measure "API rule effectiveness (365 days)" "${auth[@]}" "http://127.0.0.1:$port/api/v1/kpis/rules?from=$year_from&to=$today"
measure "API area KPIs (365 days, per month)" "${auth[@]}" "http://127.0.0.1:$port/api/v1/kpis/areas?from=$year_from&to=$today&period=month"
measure "API orders behind webshop fraud (365 days)" "${auth[@]}" "http://127.0.0.1:$port/api/v1/kpis/orders?from=$year_from&to=$today&by=channel&segment=webshop&kpi=fraud_rate_orders"

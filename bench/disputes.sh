#!/usr/bin/env bash
# Disputes at volume: 100,000 disputes over two years (5,000 of them open) beside a demo
# history; the dispute queue, a dispute page and the scheme-ratio chart, as pages and as API
# calls, each requested 40 times on loopback: median and p95 in ms (curl's time to the last
# byte: the server's time plus a loopback round trip). Then the Stripe webhook intake rate
# (bench/webhooks.py: new disputes, each with its case, then updates).
# Usage: bench/disputes.sh [sqlite|postgres]     BIN=path measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
dir=$(mktemp -d); port=18091
args=(--data-dir "$dir")
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_disputes_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  url="postgres://postgres@127.0.0.1:5432/$db"; args+=(--database-url "$url")
  sql() { psql "$url" -q -v ON_ERROR_STOP=1 -c "$1"; }
  month="to_char(to_timestamp(t / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM')"
else
  sql() { sqlite3 "$dir/riskdesk.db" "$1"; }
  month="strftime('%Y-%m', t / 1000, 'unixepoch')"
fi
cleanup() { kill "${pid:-}" 2>/dev/null; wait "${pid:-}" 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; true; }
trap cleanup EXIT
out=$(RUST_LOG=error $bin "${args[@]}" demo --customers 2000 --orders 20000 --days 60 --screen-days 10 --no-serve 2>/dev/null)
password=$(echo "$out" | awk '/sign in as pat /{print $NF}')
now=$(date +%s%3N)
echo "seeding 100,000 disputes over two years…"
t0=$(date +%s)
sql "INSERT INTO disputes (dispute_id, provider, provider_ref, payment_ref, order_id, customer_id, case_id, stage, status, reason_code,
  reason_family, network, amount_minor, currency, due_by, due_key, is_open, fraud_report, funds_minor, opened_at, month, updated_at,
  closed_at, warned_at, escalated_at, submitted_at, submitted_by, version)
WITH RECURSIVE n(i) AS (SELECT CAST(1 AS BIGINT) UNION ALL SELECT i + 1 FROM n WHERE i < 100000),
  m AS (SELECT i, $now - (i * 631) * 1000 AS t FROM n)
SELECT 'dsp_bench_' || i, CASE i % 2 WHEN 0 THEN 'stripe' ELSE 'adyen' END, 'ref_bench_' || i, 'pay_bench_' || i, 'O-B' || i, 'C-B' || (i % 5000), NULL,
  CASE WHEN i % 50 = 0 THEN 'pre_arbitration' ELSE 'chargeback' END,
  CASE WHEN i <= 5000 THEN (CASE WHEN i % 3 = 0 THEN 'under_review' ELSE 'needs_response' END) ELSE (CASE i % 3 WHEN 0 THEN 'won' WHEN 1 THEN 'lost' ELSE 'accepted' END) END,
  CASE i % 4 WHEN 0 THEN '10.4' WHEN 1 THEN '13.1' WHEN 2 THEN '4837' ELSE '13.3' END,
  CASE i % 4 WHEN 0 THEN 'fraud' WHEN 1 THEN 'not_received' WHEN 2 THEN 'fraud' ELSE 'not_as_described' END,
  CASE WHEN i % 4 = 2 THEN 'mastercard' ELSE 'visa' END, 1000 + i % 50000, 'EUR',
  t + 2592000000, t + 2592000000, CASE WHEN i <= 5000 THEN 1 ELSE 0 END, 0, 0, t, $month, t,
  CASE WHEN i <= 5000 THEN NULL ELSE t + 1000000 END, NULL, NULL, NULL, NULL, 1
FROM m"
sql "INSERT INTO scheme_volumes (month, network, settled, source, updated_at)
  SELECT DISTINCT month, network, 200000, 'report', $now FROM disputes WHERE dispute_id LIKE 'dsp_bench_%'
  ON CONFLICT (month, network) DO UPDATE SET settled = excluded.settled, source = excluded.source"
# What autovacuum does after a bulk insert on PostgreSQL (index-only scans need the visibility map).
[ "$backend" = postgres ] && sql "VACUUM ANALYZE" || sql "ANALYZE"
echo "seeded in $(( $(date +%s) - t0 )) s"
token=$(RUST_LOG=error $bin "${args[@]}" user token create pat --name bench 2>/dev/null | awk "/secret/{print \$NF}")
export RISKDESK_DISPUTES__STRIPE__WEBHOOK_SECRET=whsec_bench
adyen_key=44782DEF547AAA06C910C43932B1EB0C71FC68D9D0C057550C48EC2ACF6BA056
export RISKDESK_DISPUTES__ADYEN__HMAC_KEY=$adyen_key
RUST_LOG=warn $bin "${args[@]}" serve --listen 127.0.0.1:$port 2>/dev/null &
pid=$!
for _ in $(seq 100); do curl -sf http://127.0.0.1:$port/healthz >/dev/null && break; sleep 0.2; done
jar=$(mktemp)
curl -s -c "$jar" -o /dev/null -d "username=pat&password=$password&next=/" http://127.0.0.1:$port/login
measure() { # name, then curl arguments
  local name=$1; shift
  for i in $(seq 45); do curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$@"; done | tail -n 40 | sort -k2 -n | awk -v n="$name" '
    { if ($1 != 200) bad++; t[NR] = $2 * 1000 }
    END { printf "%-40s median %6.1f ms   p95 %6.1f ms%s\n", n, t[int(NR / 2) + 1], t[int(NR * 0.95)], bad ? "   NON-200: " bad : "" }'
}
echo "$backend: 100,000 disputes over two years, 5,000 open"
measure "page  /disputes (open, by deadline)" -b "$jar" "http://127.0.0.1:$port/disputes"
measure "page  /disputes?view=all" -b "$jar" "http://127.0.0.1:$port/disputes?view=all"
measure "page  /disputes/schemes (25 months)" -b "$jar" "http://127.0.0.1:$port/disputes/schemes?months=25"
measure "page  /disputes/{id}" -b "$jar" "http://127.0.0.1:$port/disputes/dsp_bench_4"
measure "api   GET /disputes?status=open" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/disputes?status=open"
measure "api   GET /disputes/schemes?months=25" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/disputes/schemes?months=25"
rm -f "$jar"
python3 bench/webhooks.py $port whsec_bench 2000 4 $adyen_key

#!/usr/bin/env bash
# QA at volume: 1,000,000 handlings imported from CSV with `riskdesk qa import` (the rate it
# prints: read, checked, sampled, stored), then 50,000 reviews over 26 weeks inserted by SQL;
# the QA inbox and the dashboard, as pages and API calls, each requested 40 times on loopback:
# median and p95 in ms (curl's time to the last byte).
# Usage: bench/qa.sh [sqlite|postgres] [HANDLINGS]     BIN=path measures another build.
set -euo pipefail
cd "$(dirname "$0")/.."
backend=${1:-sqlite}
n=${2:-1000000}
bin=${BIN:-target/release/riskdesk}
[ -n "${BIN:-}" ] || cargo build --release -q -p riskdesk-server
dir=$(mktemp -d); port=18092
args=(--data-dir "$dir")
if [ "$backend" = postgres ]; then
  db="riskdesk_bench_qa_$$"; psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE $db"
  url="postgres://postgres@127.0.0.1:5432/$db"; args+=(--database-url "$url")
  sql() { psql "$url" -q -v ON_ERROR_STOP=1 -c "$1"; }
else
  sql() { sqlite3 "$dir/riskdesk.db" "$1"; }
fi
cleanup() { kill "${pid:-}" 2>/dev/null; wait "${pid:-}" 2>/dev/null; rm -rf "$dir"; [ -n "${db:-}" ] && psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)"; true; }
trap cleanup EXIT
out=$(RUST_LOG=error $bin "${args[@]}" demo --customers 500 --orders 5000 --days 30 --screen-days 5 --no-serve 2>/dev/null)
password=$(echo "$out" | awk '/sign in as lea /{print $NF}')
python3 - "$dir/handlings.csv" "$n" <<'PY'
import random, sys, datetime
path, n = sys.argv[1], int(sys.argv[2])
r = random.Random(7)
now = datetime.datetime.now(datetime.timezone.utc)
providers = [("ServiceCo Lisbon", "lisbon-2"), ("CallPoint Berlin", "berlin-1"), ("In-house", "hamburg-t2")]
kinds = ["", "", "", "refund_issued:25.00:EUR", "refund_issued:80.00:EUR", "data_disclosed", "address_changed", "escalated"]
with open(path, "w") as f:
    f.write("handling_id,agent,provider,team,channel,closed_at,case_ref,customer_id,order_ids,actions,identity_checked,csat,transcript\n")
    for i in range(n):
        p, t = providers[i % 3]
        closed = (now - datetime.timedelta(minutes=r.randrange(60, 26 * 7 * 24 * 60))).strftime("%Y-%m-%dT%H:%M:%SZ")
        f.write(f"BH-{i:07d},agent-{i % 120},{p},{t},phone,{closed},T-{i},C-{i % 50000:05d},O-{i},{r.choice(kinds)},{str(r.random() < 0.9).lower()},{r.randint(1, 5)},"
                f"\"Customer asked about order O-{i}; agent checked the account and answered.\"\n")
PY
echo "$backend: importing $n handlings…"
RUST_LOG=error $bin "${args[@]}" qa import "$dir/handlings.csv" 2>/dev/null
echo "seeding 50,000 reviews over 26 weeks…"
sql "INSERT INTO qa_reviews (review_id, handling_id, reviewer, scorecard_version, ratings, score, knocked_out, failed, comment, session_id,
  agent, provider, team, week, random, created_at, feedback_status, feedback_due, answered_by, answered_at, dispute_reason,
  second_reviewer, second_score, decided_at, version)
SELECT 'qar_bench_' || SUBSTR(handling_id, 4), handling_id, 'user:lea', 1, '{}', CASE WHEN CAST(SUBSTR(handling_id, 4) AS BIGINT) % 25 = 0 THEN 0 ELSE 60 + CAST(SUBSTR(handling_id, 4) AS BIGINT) % 40 END,
  CASE WHEN CAST(SUBSTR(handling_id, 4) AS BIGINT) % 25 = 0 THEN '[\"identity_before_disclosure\"]' ELSE '[]' END, '[\"tone\"]', '', NULL,
  agent, provider, team, week, CASE WHEN CAST(SUBSTR(handling_id, 4) AS BIGINT) % 2 = 0 THEN 1 ELSE 0 END, closed_at + 86400000,
  'acknowledged', NULL, NULL, NULL, NULL, NULL, NULL, NULL, 1
FROM handlings WHERE handling_id LIKE 'BH-%' AND CAST(SUBSTR(handling_id, 4) AS BIGINT) % 20 = 0"
sql "INSERT INTO qa_review_failures (review_id, criterion, knockout, week, provider)
  SELECT review_id, 'tone', 0, week, provider FROM qa_reviews WHERE review_id LIKE 'qar_bench_%'"
sql "UPDATE handlings SET review_status = 'reviewed' WHERE handling_id IN (SELECT handling_id FROM qa_reviews WHERE review_id LIKE 'qar_bench_%')"
[ "$backend" = postgres ] && sql "VACUUM ANALYZE" || sql "ANALYZE"
sql "SELECT COUNT(*) AS reviews FROM qa_reviews"
sql "SELECT COUNT(*) AS open_in_inbox FROM handlings WHERE review_status = 'open'"
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
    END { printf "%-40s median %6.1f ms   p95 %6.1f ms%s\n", n, t[int(NR / 2) + 1], t[int(NR * 0.95)], bad ? "   NON-200: " bad : "" }'
}
measure "page  /qa (inbox)" -b "$jar" "http://127.0.0.1:$port/qa"
measure "page  /qa/dashboard (12 weeks, provider)" -b "$jar" "http://127.0.0.1:$port/qa/dashboard"
measure "page  /qa/dashboard (26 weeks, agent)" -b "$jar" "http://127.0.0.1:$port/qa/dashboard?weeks=26&by=agent"
measure "api   GET /qa/inbox" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/qa/inbox"
measure "api   GET /qa/dashboard?weeks=26&by=agent" -H "Authorization: Bearer $token" "http://127.0.0.1:$port/api/v1/qa/dashboard?weeks=26&by=agent"
rm -f "$jar"

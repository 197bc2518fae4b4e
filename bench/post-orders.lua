-- wrk script: POST /api/v1/orders with a distinct, realistic order per request: placed now, from
-- 100,000 customers per thread (each with its own device, phone, card and IP; two share an address).
-- The API key comes from RISKDESK_KEY; RUN_ID keeps ids distinct across runs on one database.
local key = os.getenv("RISKDESK_KEY")
local run = os.getenv("RUN_ID") or "r"
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
local n = 0
request = function()
  n = n + 1
  local c = n % 100000
  local now = os.date("!%Y-%m-%dT%H:%M:%SZ")
  local body = string.format([[{"order_id":"%s-%d-%d","placed_at":"%s","channel":"webshop",
"customer":{"customer_id":"C-%d-%d","email":"c%d.%d@example.com","phone":"+4915%d%07d","name":"Anna Beispiel","created_at":"2025-01-02T08:00:00Z"},
"total":{"amount":"249.90","currency":"EUR"},
"items":[{"sku":"SKU-1","brand":"Acme","category":"sneakers","quantity":1,"unit_price":{"amount":"249.90","currency":"EUR"}}],
"payment":{"method":"card","card":{"bin":"411111","last4":"1111","fingerprint":"fp_%d_%d","issuer_country":"DE"}},
"billing_address":{"name":"Anna Beispiel","line1":"Torstr. %d","postal_code":"10115","city":"Berlin","country":"DE"},
"shipping_address":{"name":"Anna Beispiel","line1":"Torstr. %d","postal_code":"10115","city":"Berlin","country":"DE"},
"device":{"device_id":"dev-%d-%d","ip":"10.%d.%d.%d","user_agent":"Mozilla/5.0"},
"promo_codes":["WELCOME10"],"attributes":{"checkout_seconds":41}}]],
    run, tid, n, now, tid, c, tid, c, tid, c, tid, c, c, c, tid, c, tid * 2 + math.floor(c / 65536), math.floor(c / 256) % 256, c % 256)
  return wrk.format("POST", "/api/v1/orders", {["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. key}, body)
end
response = function(status, headers, body)
  if status ~= 200 then
    io.stderr:write("unexpected status " .. status .. ": " .. body .. "\n")
  end
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d duration_s=%.1f rps=%.0f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end

#!/usr/bin/env python3
"""Dispute webhooks against a running riskdesk: N new Stripe disputes (each stored, linked and
given a case), then N updates of them, from C concurrent keep-alive connections, every body
signed as Stripe signs it; with an Adyen HMAC key, the same for Adyen (notifications of one item,
NOTIFICATION_OF_CHARGEBACK then CHARGEBACK). Prints the rate of each phase.
Usage: webhooks.py PORT SECRET [N] [C] [ADYEN_HEX_KEY]"""
import base64, hashlib, hmac, http.client, json, sys, threading, time

port, secret = int(sys.argv[1]), sys.argv[2]
n = int(sys.argv[3]) if len(sys.argv) > 3 else 2000
conc = int(sys.argv[4]) if len(sys.argv) > 4 else 4
adyen_key = sys.argv[5] if len(sys.argv) > 5 else ""
run = str(int(time.time()))


def body(i, kind, status):
    now = int(time.time())
    return json.dumps({
        "id": f"evt_bench_{run}_{kind}_{i}", "object": "event", "type": kind, "created": now,
        "data": {"object": {
            "id": f"dp_bench_{run}_{i}", "object": "dispute", "amount": 1000 + i, "currency": "eur",
            "charge": f"ch_bench_{i}", "payment_intent": f"pi_bench_{i}", "reason": "fraudulent", "status": status,
            "created": now, "evidence_details": {"due_by": now + 7 * 86400}, "metadata": {},
            "payment_method_details": {"type": "card", "card": {"brand": "visa", "network_reason_code": "10.4"}}}}}).encode()


def sign(b):
    t = str(int(time.time()))
    mac = hmac.new(secret.encode(), t.encode() + b"." + b, hashlib.sha256).hexdigest()
    return f"t={t},v1={mac}"


def adyen_body(i, code):
    item = {"additionalData": {"chargebackReasonCode": "10.4", "chargebackSchemeCode": "visa",
                               "defensePeriodEndsAt": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(time.time() + 7 * 86400))},
            "amount": {"currency": "EUR", "value": 1000 + i}, "eventCode": code,
            "eventDate": time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime()),
            "merchantAccountCode": "ShopDE", "merchantReference": f"O-bench-{i}", "originalReference": f"orig-{run}-{i}",
            "paymentMethod": "visa", "pspReference": f"ady-{run}-{i}", "reason": "fraud", "success": "true"}
    signing = ":".join([item["pspReference"], item["originalReference"], item["merchantAccountCode"], item["merchantReference"],
                        str(item["amount"]["value"]), item["amount"]["currency"], item["eventCode"], item["success"]])
    item["additionalData"]["hmacSignature"] = base64.b64encode(
        hmac.new(bytes.fromhex(adyen_key), signing.encode(), hashlib.sha256).digest()).decode()
    return json.dumps({"live": "false", "notificationItems": [{"NotificationRequestItem": item}]}).encode()


def phase(kind, status, adyen=False):
    bad = []

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port)
        for i in range(k, n, conc):
            if adyen:
                c.request("POST", "/api/v1/webhooks/adyen", adyen_body(i, kind), {"Content-Type": "application/json"})
            else:
                b = body(i, kind, status)
                c.request("POST", "/api/v1/webhooks/stripe", b, {"Content-Type": "application/json", "Stripe-Signature": sign(b)})
            r = c.getresponse()
            r.read()
            if r.status != 200:
                bad.append(r.status)
    start = time.time()
    threads = [threading.Thread(target=worker, args=(k,)) for k in range(conc)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    took = time.time() - start
    print(f"{kind:<24} {n} events in {took:5.1f} s: {n / took:7.0f} events/s{'   NON-200: ' + str(len(bad)) if bad else ''}")


phase("charge.dispute.created", "needs_response")
phase("charge.dispute.updated", "under_review")
if adyen_key:
    phase("NOTIFICATION_OF_CHARGEBACK", None, adyen=True)
    phase("CHARGEBACK", None, adyen=True)

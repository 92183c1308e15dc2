"""Verifies Varde's webhook deliveries with the Standard Webhooks reference library (PyPI `standardwebhooks`), as a
subscriber would. Usage: verify.py SECRET DELIVERIES.json, where the file holds [{"headers": {...}, "body": "..."}].
Prints one line per delivery and exits non-zero if any fails to verify."""

import json
import sys

from standardwebhooks.webhooks import Webhook

secret, path = sys.argv[1], sys.argv[2]
hook = Webhook(secret)
deliveries = json.load(open(path, encoding="utf-8"))
failed = 0
for d in deliveries:
    try:
        payload = hook.verify(d["body"], d["headers"])
        print("verified", d["headers"]["webhook-id"], payload["type"])
    except Exception as e:  # the library raises WebhookVerificationError
        failed += 1
        print("NOT VERIFIED", d["headers"].get("webhook-id"), e)
# A forged body must not verify.
try:
    hook.verify(deliveries[0]["body"].replace("alert", "alart", 1), deliveries[0]["headers"])
    print("a tampered body verified")
    failed += 1
except Exception:
    print("a tampered body is refused")
sys.exit(1 if failed or not deliveries else 0)

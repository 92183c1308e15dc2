"""Checks Web Push requests as a push service and a browser would, with peer libraries: the VAPID token (RFC 8292)
is verified with `cryptography` against the key it names and must be for the endpoint's origin and unexpired; the
body is decrypted with `http_ece` (RFC 8188/8291, aes128gcm) using the subscription's private key and auth secret.

Usage: push_receiver.py REQUESTS.json, where the file holds {"private_key": <base64url P-256 scalar>, "auth":
<base64url>, "requests": [{"endpoint", "headers": {...}, "body": <base64url>}]}. Prints each decrypted payload as a
JSON line and exits non-zero if any request fails a check."""

import base64
import json
import sys
import time

import http_ece
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


spec = json.load(open(sys.argv[1], encoding="utf-8"))
private = ec.derive_private_key(int.from_bytes(b64(spec["private_key"]), "big"), ec.SECP256R1())
auth = b64(spec["auth"])
failed = 0
for r in spec["requests"]:
    h = {k.lower(): v for k, v in r["headers"].items()}
    try:
        assert h["content-encoding"] == "aes128gcm", h.get("content-encoding")
        assert int(h["ttl"]) > 0
        scheme, params = h["authorization"].split(" ", 1)
        assert scheme == "vapid"
        fields = dict(p.strip().split("=", 1) for p in params.split(","))
        header, claims, signature = fields["t"].split(".")
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64(fields["k"]))
        raw = b64(signature)
        der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
        public.verify(der, f"{header}.{claims}".encode(), ec.ECDSA(hashes.SHA256()))
        assert json.loads(b64(header))["alg"] == "ES256"
        c = json.loads(b64(claims))
        origin = "/".join(r["endpoint"].split("/")[:3])
        assert c["aud"] == origin, (c["aud"], origin)
        assert time.time() < c["exp"] <= time.time() + 24 * 3600, c["exp"]
        assert c["sub"].startswith(("mailto:", "https:")), c["sub"]
        plaintext = http_ece.decrypt(b64(r["body"]), private_key=private, auth_secret=auth, version="aes128gcm")
        print(json.dumps({"ok": True, "payload": json.loads(plaintext)}), flush=True)
    except Exception as e:
        failed += 1
        print(json.dumps({"ok": False, "error": repr(e)}), flush=True)
sys.exit(1 if failed or not spec["requests"] else 0)

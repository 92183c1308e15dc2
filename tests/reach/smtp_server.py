"""A real SMTP server on loopback for Varde's tests (aiosmtpd). Prints `PORT <n>` when it listens, then one JSON line
per message it accepts: {"mail_from", "rcpt_tos", "headers", "text", "html"} (headers and parts decoded by Python's
`email` package, as a mail client would). With `--auth USER:PASSWORD` it requires AUTH (PLAIN or
LOGIN; allowed without TLS on loopback) and refuses mail from clients that did not log in. With `--refuse ADDRESS`
it answers 550 for that recipient. Runs until stdin closes (the test ends)."""

import argparse
import email
import email.policy
import json
import socket
import sys
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult

parser = argparse.ArgumentParser()
parser.add_argument("--auth")
parser.add_argument("--refuse", action="append", default=[])
args = parser.parse_args()
lock = threading.Lock()


class Handler:
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in args.refuse:
            return "550 5.1.1 mailbox unavailable"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        if args.auth and not session.authenticated:
            return "530 5.7.0 Authentication required"
        message = email.message_from_bytes(envelope.original_content, policy=email.policy.default)
        text = message.get_body(("plain",))
        html = message.get_body(("html",))
        line = json.dumps({
            "mail_from": envelope.mail_from,
            "rcpt_tos": envelope.rcpt_tos,
            "headers": {k: str(v) for k, v in message.items()},
            "content_type": message.get_content_type(),
            "text": text.get_content() if text else None,
            "html": html.get_content() if html else None,
        })
        with lock:
            print(line, flush=True)
        return "250 Message accepted for delivery"


def authenticator(server, session, envelope, mechanism, auth_data):
    user, password = args.auth.split(":", 1)
    ok = auth_data.login.decode() == user and auth_data.password.decode() == password
    return AuthResult(success=ok)


with socket.socket() as s:
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
kwargs = {}
if args.auth:
    kwargs = {"authenticator": authenticator, "auth_require_tls": False, "auth_required": True}
controller = Controller(Handler(), hostname="127.0.0.1", port=port, server_kwargs=kwargs)
controller.start()
print(f"PORT {port}", flush=True)
sys.stdin.read()
controller.stop()

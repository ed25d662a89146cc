#!/usr/bin/env python3
"""One mailbox check with Python's poplib, as a mail program would do it.

  pop3_client.py [--stls] [--auth user|CRAM-MD5] HOST PORT

--stls: STLS before logging in (certificate not verified: the test server's is self-signed);
--auth user (the default) sends USER and PASS, CRAM-MD5 sends AUTH CRAM-MD5 (RFC 5034) by hand,
poplib having no SASL. Logs in as harness/harness, asks STAT and quits. Prints
"INBOX: N messages" and exits 0, or prints the error and exits 1.
"""
import argparse
import base64
import hashlib
import hmac
import poplib
import ssl
import sys

parser = argparse.ArgumentParser()
parser.add_argument("--stls", action="store_true")
parser.add_argument("--auth", default="user")
parser.add_argument("host")
parser.add_argument("port", type=int)
args = parser.parse_args()

try:
    pop = poplib.POP3(args.host, args.port, timeout=20)
    if args.stls:
        pop.stls(context=ssl._create_unverified_context())
    if args.auth.upper() == "CRAM-MD5":
        challenge = pop._shortcmd("AUTH CRAM-MD5")  # "+ base64(challenge)"
        digest = hmac.new(b"harness", base64.b64decode(challenge[2:]), hashlib.md5).hexdigest()
        pop._shortcmd(base64.b64encode(f"harness {digest}".encode()).decode())
    else:
        pop.user("harness")
        pop.pass_("harness")
    count, _size = pop.stat()
    pop.quit()
    print(f"INBOX: {count} messages")
except (poplib.error_proto, ssl.SSLError, OSError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)

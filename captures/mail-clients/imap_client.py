#!/usr/bin/env python3
"""One mailbox check with Python's imaplib, as a mail program would do it.

  imap_client.py [--starttls] [--auth login|PLAIN|CRAM-MD5] [--tls-max VERSION] HOST PORT

--starttls: STARTTLS before logging in (certificate not verified: the test server's is
self-signed); --auth login uses the LOGIN command, PLAIN or CRAM-MD5 AUTHENTICATE;
--tls-max TLSv1_1 caps the TLS version (and lowers OpenSSL's security level so it may be used).
Logs in as harness/harness, selects INBOX and logs out. Prints "INBOX: N messages" and exits 0,
or prints the error and exits 1.
"""
import argparse
import imaplib
import ssl
import sys
import warnings

# TLS 1.0 and 1.1 are deprecated in Python: --tls-max uses them on purpose.
warnings.filterwarnings("ignore", category=DeprecationWarning)

parser = argparse.ArgumentParser()
parser.add_argument("--starttls", action="store_true")
parser.add_argument("--auth", default="login")
parser.add_argument("--tls-max")
parser.add_argument("host")
parser.add_argument("port", type=int)
args = parser.parse_args()

context = ssl._create_unverified_context()
if args.tls_max:
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion[args.tls_max]
try:
    imap = imaplib.IMAP4(args.host, args.port, timeout=20)
    if args.starttls:
        imap.starttls(ssl_context=context)
    if args.auth == "login":
        imap.login("harness", "harness")
    elif args.auth.upper() == "CRAM-MD5":
        imap.login_cram_md5("harness", "harness")
    else:
        imap.authenticate(args.auth.upper(), lambda _challenge: b"\0harness\0harness")
    status, data = imap.select("INBOX", readonly=True)
    imap.logout()
    print(f"INBOX: {data[0].decode()} messages")
except (imaplib.IMAP4.error, ssl.SSLError, OSError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)

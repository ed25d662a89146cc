#!/usr/bin/env python3
"""One mail submission with Python's smtplib, as a mail program would do it.

  smtp_client.py [--starttls] [--mech auto|PLAIN|LOGIN|CRAM-MD5] [--tls-max VERSION] HOST PORT

--starttls: STARTTLS before AUTH (certificate not verified: the test server's is self-signed);
--mech auto lets smtplib choose (it tries CRAM-MD5, then PLAIN, then LOGIN, of those offered);
--tls-max TLSv1_1 caps the TLS version (and lowers OpenSSL's security level so it may be used).
Logs in as harness/harness and sends one message from harness@harness.test to
someone@example.test. Prints "sent" and exits 0, or prints the error and exits 1.
"""
import argparse
import smtplib
import ssl
import sys
import warnings

# TLS 1.0 and 1.1 are deprecated in Python: --tls-max uses them on purpose.
warnings.filterwarnings("ignore", category=DeprecationWarning)

parser = argparse.ArgumentParser()
parser.add_argument("--starttls", action="store_true")
parser.add_argument("--mech", default="auto")
parser.add_argument("--tls-max")
parser.add_argument("host")
parser.add_argument("port", type=int)
args = parser.parse_args()

context = ssl._create_unverified_context()
if args.tls_max:
    context.set_ciphers("DEFAULT:@SECLEVEL=0")
    context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion[args.tls_max]
message = "From: harness@harness.test\r\nTo: someone@example.test\r\nSubject: harness\r\n\r\nhello\r\n"
try:
    with smtplib.SMTP(args.host, args.port, local_hostname="client.harness.test", timeout=20) as smtp:
        smtp.ehlo()
        if args.starttls:
            smtp.starttls(context=context)
            smtp.ehlo()
        if args.mech == "auto":
            smtp.login("harness", "harness")
        else:
            smtp.user, smtp.password = "harness", "harness"
            method = {"PLAIN": smtp.auth_plain, "LOGIN": smtp.auth_login, "CRAM-MD5": smtp.auth_cram_md5}
            smtp.auth(args.mech, method[args.mech.upper()], initial_response_ok=True)
        smtp.sendmail("harness@harness.test", ["someone@example.test"], message)
    print("sent")
except (smtplib.SMTPException, ssl.SSLError, OSError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)

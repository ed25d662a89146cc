#!/usr/bin/env python3
"""One mail submission with aiosmtplib (PyPI), with its defaults: STARTTLS when the server offers
it (certificate not verified: the test server's is self-signed), then login with the mechanism
aiosmtplib prefers of those offered (CRAM-MD5, then PLAIN, then LOGIN).

  aiosmtplib_client.py HOST PORT

Sends one message as harness/harness from harness@harness.test to someone@example.test. Prints
"sent" and exits 0, or prints the error and exits 1.
"""
import asyncio
import sys
from email.message import EmailMessage

import aiosmtplib


async def main(host, port):
    message = EmailMessage()
    message["From"] = "harness@harness.test"
    message["To"] = "someone@example.test"
    message["Subject"] = "harness"
    message.set_content("hello")
    await aiosmtplib.send(
        message,
        hostname=host,
        port=port,
        username="harness",
        password="harness",
        validate_certs=False,
        local_hostname="client.harness.test",
        timeout=20,
    )


try:
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
    print("sent")
except (aiosmtplib.SMTPException, OSError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)

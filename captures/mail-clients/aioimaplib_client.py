#!/usr/bin/env python3
"""One mailbox check with aioimaplib (PyPI), in the clear as it connects by default (it has no
STARTTLS): LOGIN as harness/harness, EXAMINE INBOX, LOGOUT.

  aioimaplib_client.py HOST PORT

Prints "INBOX: N messages" and exits 0, or prints the server's refusal (or the error) and exits 1.
"""
import asyncio
import sys

import aioimaplib


async def main(host, port):
    imap = aioimaplib.IMAP4(host=host, port=port, timeout=20)
    await imap.wait_hello_from_server()
    response = await imap.login("harness", "harness")
    if response.result != "OK":
        raise RuntimeError(f"LOGIN {response.result}: {b' '.join(response.lines).decode(errors='replace')}")
    response = await imap.examine("INBOX")
    if response.result != "OK":
        raise RuntimeError(f"EXAMINE {response.result}: {b' '.join(response.lines).decode(errors='replace')}")
    exists = next((line.split()[0].decode() for line in response.lines if line.endswith(b"EXISTS")), "?")
    await imap.logout()
    return exists


try:
    print(f"INBOX: {asyncio.run(main(sys.argv[1], int(sys.argv[2])))} messages")
except (aioimaplib.Abort, aioimaplib.CommandTimeout, RuntimeError, OSError, asyncio.TimeoutError) as error:
    print(f"{type(error).__name__}: {error}")
    sys.exit(1)

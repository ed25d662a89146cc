#!/usr/bin/env python3
"""What a mail session's pcap shows in the clear, in one line per connection:

  python3 captures/mail-summary.py smtp|imap|pop3 FILE.pcap

For example "S:220 C:EHLO S:250 C:STARTTLS S:220 [TLS] client-closed": the server's reply codes
(SMTP's three digits; IMAP's tagged OK/NO/BAD with its [CODE], "*" lines by their first word;
POP3's +OK/-ERR with its [CODE]; of a run of IMAP "*" lines, the first) and the client's command verbs (AUTH with its mechanism, never
credentials; a line answering a SASL challenge is "C:..."), up to the point where TLS starts
(after a STARTTLS/STLS the server agreed to), then who closed first (client-closed,
server-closed) or reset. Exits 1 if the file holds no whole connection (no SYN from the client),
which is how make.sh knows tcpdump missed it. Reads the pcap with captures/pcap_tcp.py (the
standard library only).
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from pcap_tcp import tcp_segments  # noqa: E402

SYN, FIN, RST, ACK = 0x02, 0x01, 0x04, 0x10
STARTTLS = {"smtp": "STARTTLS", "imap": "STARTTLS", "pop3": "STLS"}


def connections(path):
    """Per connection (in the order they opened): its events in capture order, each
    ("C" or "S", payload bytes) or ("end", "client-closed" | "server-closed" | "reset")."""
    found = {}
    for src, dst, seq, flags, payload in tcp_segments(path):
        if flags & SYN and not flags & ACK:
            found[(src, dst)] = {"events": [], "next": {}, "ended": False}
            continue
        if (src, dst) in found:
            conn, side = found[(src, dst)], "C"
        elif (dst, src) in found:
            conn, side = found[(dst, src)], "S"
        else:
            continue
        if flags & SYN:  # the SYN-ACK: the server's stream starts after it
            conn["next"]["S"] = (seq + 1) & 0xFFFFFFFF
            continue
        expected = conn["next"].get(side)
        if payload and (expected is None or seq == expected):  # retransmissions skipped
            conn["events"].append((side, payload))
            conn["next"][side] = (seq + len(payload)) & 0xFFFFFFFF
        if not conn["ended"] and flags & (FIN | RST):
            conn["ended"] = True
            how = "reset" if flags & RST else ("client-closed" if side == "C" else "server-closed")
            conn["events"].append(("end", how))
    return [conn["events"] for conn in found.values()]


def client_word(protocol, line, in_sasl):
    if in_sasl:
        return "..."
    words = line.split()
    if protocol == "imap" and len(words) >= 2:
        words = words[1:]  # the tag
    if not words:
        return "(empty)"
    verb = words[0].upper()
    if verb in ("AUTH", "AUTHENTICATE") and len(words) > 1:
        return f"{verb} {words[1].upper()}"
    return verb


def server_word(protocol, line):
    if protocol == "smtp":
        return line[:3]
    if protocol == "pop3":
        match = re.match(r"(\+OK|-ERR|\+)\s*(\[[^\]]*\])?", line)
        return " ".join(filter(None, match.groups())) if match else line.split()[0]
    words = line.split()
    if not words:
        return "(empty)"
    if words[0] == "+":
        return "+"
    if words[0] == "*":
        return "* " + (words[1] if len(words) > 1 else "")
    match = re.match(r"\S+ (OK|NO|BAD)\s*(\[[A-Z-]+)?", line)
    if match:
        return match.group(1) + (" " + match.group(2) + "]" if match.group(2) else "")
    return words[0]


def summary(protocol, events):
    out, buffers = [], {"C": b"", "S": b""}
    asked_tls = in_sasl = in_data = False
    multi_line = in_list = False  # POP3: a command answered by lines up to "."
    for index, (side, data) in enumerate(events):
        if side == "end":
            out.append(data)
            break
        buffers[side] += data
        while b"\n" in buffers[side]:
            raw, buffers[side] = buffers[side].split(b"\n", 1)
            line = raw.rstrip(b"\r").decode("latin-1")
            if side == "C":
                if in_data:  # SMTP: the message itself, up to the "." line
                    in_data = line != "."
                    if not in_data:
                        out.append("C:(message)")
                    continue
                word = client_word(protocol, line, in_sasl)
                words = line.split()
                multi_line = protocol == "pop3" and (
                    word in ("CAPA", "RETR", "TOP") or (word in ("LIST", "UIDL") and len(words) == 1)
                )
                asked_tls = word == STARTTLS[protocol]
                in_sasl = in_sasl or word.startswith("AUTH")
                out.append("C:" + word)
                continue
            if protocol == "smtp" and line[3:4] == "-":
                continue  # a multi-line reply: its last line names it
            if in_list:
                in_list = line != "."
                continue
            word = server_word(protocol, line)
            if word.startswith("* ") and out and out[-1].startswith("S:* "):
                continue  # a run of untagged lines: its first names it
            out.append("S:" + word)
            in_data = protocol == "smtp" and word == "354"
            in_list = multi_line and word.startswith("+OK")
            multi_line = False
            # a challenge ("334", "+") keeps a SASL exchange going; anything else ends it
            in_sasl = in_sasl and (word == "334" or word == "+")
            if asked_tls and word in ("220", "OK", "+OK"):
                # what follows is TLS records: only how the connection ended is still told
                out.append("[TLS]")
                ending = next((how for later, how in events[index + 1:] if later == "end"), None)
                if ending:
                    out.append(ending)
                return " ".join(out)
            asked_tls = False
    return " ".join(out)


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in STARTTLS:
        sys.exit("usage: mail-summary.py smtp|imap|pop3 FILE.pcap")
    found = connections(sys.argv[2])
    if not found:
        print("no connection captured")
        sys.exit(1)
    print(" | ".join(summary(sys.argv[1], events) for events in found))


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""What an HTTP/1.x capture holds, read with the standard library only (no tcpdump, no scapy).

    python3 pcap-summary.py FILE.pcap            one line per request: connection, method,
                                                 target, version, status, User-Agent
    python3 pcap-summary.py --tsv PATH FILE.pcap one tab-separated line for clients.tsv: the
                                                 User-Agent and HTTP version of the first request
                                                 for PATH, the number of TCP connections made
                                                 (the server answered the SYN with SYN-ACK) and
                                                 of attempts refused (answered with RST)
    python3 pcap-summary.py --check PATH FILE    exit 1 unless a request for PATH got a whole
                                                 response with status 200

Reads classic pcap (as tcpdump -w writes it) on Ethernet, Linux cooked (v1, v2), BSD loopback
and raw IP links. Each TCP connection is one client SYN; its two byte streams are put together
by sequence number, and requests and responses are split at their heads' blank line and their
Content-Length or chunked bodies (requests here have none).
"""
import re
import os
import sys

# The pcap and TCP reading both capture helpers share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pcap_tcp import tcp_segments  # noqa: E402


SYN, RST, ACK = 0x02, 0x04, 0x10


class Connection:
    def __init__(self, number, client, server, isn):
        self.number, self.client, self.server = number, client, server
        self.isn = {client: isn}
        self.chunks = {client: {}, server: {}}
        self.reset = self.established = self.refused = False

    def add(self, src, seq, flags, payload):
        if flags & SYN:
            self.isn[src] = seq
            self.established = True
        if flags & RST and not self.established:
            self.refused = True
        if flags & RST:
            self.reset = True
        if payload and src in self.isn:
            self.chunks[src].setdefault((seq - self.isn[src] - 1) % 2**32, payload)

    def stream(self, side):
        out, end = bytearray(), 0
        for start, payload in sorted(self.chunks[side].items()):
            if start + len(payload) > end:
                out += payload[max(0, end - start):]
                end = start + len(payload)
        return bytes(out)


def connections(path):
    """The TCP connections in the file, in the order their first SYN was seen."""
    found, by_pair = [], {}
    for src, dst, seq, flags, payload in tcp_segments(path):
        key = frozenset((src, dst))
        if flags & SYN and not flags & ACK and (key not in by_pair or by_pair[key].client != src or by_pair[key].isn[src] != seq):
            by_pair[key] = Connection(len(found) + 1, src, dst, seq)
            found.append(by_pair[key])
        elif key in by_pair:
            by_pair[key].add(src, seq, flags, payload)
    return found


def messages(data, request):
    """Split a byte stream into (start line, headers, whole) HTTP/1.x messages."""
    out = []
    while data:
        head_end = data.find(b"\r\n\r\n")
        if head_end < 0:
            out.append((data.split(b"\r\n")[0].decode("latin-1"), {}, False))
            break
        lines = data[:head_end].decode("latin-1").split("\r\n")
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers.setdefault(name.strip().lower(), value.strip())
        rest = data[head_end + 4:]
        whole = True
        if "chunked" in headers.get("transfer-encoding", "").lower():
            body_end = chunked_end(rest)
            whole = body_end is not None
            rest = rest[body_end:] if whole else b""
        elif "content-length" in headers:
            length = int(headers["content-length"])
            whole = len(rest) >= length
            rest = rest[length:]
        elif not request and not re.match(r"HTTP/\S+ (1\d\d|204|304)", lines[0]):
            rest = b""  # a response without a length runs to the close
        out.append((lines[0], headers, whole))
        data = rest
    return out


def chunked_end(data):
    at = 0
    while True:
        line_end = data.find(b"\r\n", at)
        if line_end < 0:
            return None
        size = int(data[at:line_end].split(b";")[0] or b"0", 16)
        at = line_end + 2 + size + 2
        if size == 0:
            trailer_end = data.find(b"\r\n\r\n", line_end)
            return None if trailer_end < 0 else trailer_end + 4
        if at > len(data):
            return None


def exchanges(path):
    """(connection, request start line, request headers, response status or None, response whole)."""
    conns = connections(path)
    out = []
    for conn in conns:
        requests = messages(conn.stream(conn.client), True)
        responses = [r for r in messages(conn.stream(conn.server), False) if not r[0].startswith("HTTP/1.1 100 ")]
        # a 101 Switching Protocols answers the request that asked for it; none is expected here
        for i, (start, headers, _) in enumerate(requests):
            status, whole = None, False
            if i < len(responses):
                parts = responses[i][0].split(" ", 2)
                status, whole = (int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None), responses[i][2]
            out.append((conn, start, headers, status, whole))
    return conns, out


def main(argv):
    if argv[:1] == ["--tsv"]:
        path, file = argv[1], argv[2]
        conns, found = exchanges(file)
        counts = f"{sum(c.established for c in conns)}\t{sum(c.refused for c in conns)}"
        for conn, start, headers, status, whole in found:
            parts = start.split(" ")
            if len(parts) == 3 and parts[1].split("?")[0] == path:
                print(f"{headers.get('user-agent', '(none)')}\t{parts[2]}\t{counts}")
                return 0
        print(f"(none)\t(no request for {path})\t{counts}")
        return 1
    if argv[:1] == ["--check"]:
        path, file = argv[1], argv[2]
        _, found = exchanges(file)
        ok = any(start.split(" ")[1:2] == [path] and status == 200 and whole for _, start, _, status, whole in found)
        if not ok:
            print(f"{file}: no request for {path} with a whole 200 response", file=sys.stderr)
        return 0 if ok else 1
    for file in argv:
        conns, found = exchanges(file)
        refused = [f"#{c.number}" for c in conns if c.refused]
        print(f"{file}: {sum(c.established for c in conns)} TCP connection(s), {len(found)} request(s)"
              + (f"; refused: {' '.join(refused)}" if refused else ""))
        for conn, start, headers, status, whole in found:
            ua = headers.get("user-agent", "(no User-Agent)")
            answer = f"{status}{'' if whole else ' (partial)'}" if status else "no response"
            print(f"  #{conn.number} {start} -> {answer}  [{ua}]")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

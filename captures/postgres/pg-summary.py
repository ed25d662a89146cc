#!/usr/bin/env python3
"""What a PostgreSQL capture holds, read with the standard library only (no tcpdump, no scapy).

    python3 pg-summary.py FILE.pcap...        each TCP connection and, in the order they crossed
                                              the wire, the frontend/backend messages in it
    python3 pg-summary.py --tsv FILE.pcap     one tab-separated line for clients.tsv (see TSV_FIELDS)
    python3 pg-summary.py --check KIND FILE   exit 1 unless the capture shows KIND:
                                                complete      a startup message, an authentication
                                                              request, AuthenticationOk, ReadyForQuery
                                                              and a query answered with a DataRow
                                                tls-declined  an SSLRequest answered 'N', after which the
                                                              client closed without a startup message
                                                direct-tls    a TLS ClientHello with no SSLRequest before it
    python3 pg-summary.py --json FILE.pcap    the same as JSON, one object per connection

Reads classic pcap (as tcpdump -w writes it) on Ethernet, Linux cooked (v1, v2), BSD loopback
and raw IP links. Each TCP connection is one client SYN; its two byte streams are put together
by sequence number. The client's stream starts with untyped packets (SSLRequest, GSSENCRequest,
CancelRequest, or a StartupMessage of protocol 3.x, or protocol 2.0's fixed-size one), each
SSLRequest or GSSENCRequest answered by one byte ('S'/'G' yes, 'N' no; an old server may answer
with an ErrorResponse instead); after an 'S' or a 'G' the rest is encrypted and not read. Then
both streams are typed messages (one type byte, a 4-byte length that counts itself).
"""
import json
import struct
import os
import sys

# The pcap and TCP reading both capture helpers share.
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pcap_tcp import tcp_segments  # noqa: E402

SSL_REQUEST, GSSENC_REQUEST, CANCEL_REQUEST = 80877103, 80877104, 80877102
TSV_FIELDS = [
    "connections",        # TCP connections the client opened
    "negotiation",        # per connection, what came before the startup message: SSLRequest->N, ...
    "protocol",           # the StartupMessage's protocol version (the last connection's)
    "user", "database", "application_name", "client_encoding",
    "other_parameters",   # every other startup parameter, name=value separated by "; "
    "parameter_order",    # the names of all startup parameters, in the order sent
    "auth_requests",      # the server's authentication requests, in order
    "auth_method",        # what the client did: md5, SCRAM-SHA-256, password, trust, ...
    "query_protocol",     # simple (Query) or extended (Parse/Bind/Execute)
    "outcome",            # ReadyForQuery, or the ErrorResponse's SQLSTATE and message, ...
    "ending",             # Terminate then close, or who closed without Terminate
]


FIN, SYN, RST, ACK = 0x01, 0x02, 0x04, 0x10


class Connection:
    def __init__(self, number, client, server, isn):
        self.number, self.client, self.server = number, client, server
        self.isn = {client: isn}
        self.chunks = {client: {}, server: {}}
        self.established = self.refused = False
        self.fin = {}  # side -> packet index of its first FIN
        self.rst = {}

    def add(self, index, src, seq, flags, payload):
        if flags & SYN:
            self.isn[src] = seq
            self.established = True
        if flags & RST:
            self.refused = self.refused or not self.established
            self.rst.setdefault(src, index)
        if flags & FIN:
            self.fin.setdefault(src, index)
        if payload and src in self.isn:
            self.chunks[src].setdefault((seq - self.isn[src] - 1) % 2**32, (index, payload))

    def stream(self, side):
        """The side's bytes, and for each byte offset where a segment starts, its packet index."""
        out, end, marks = bytearray(), 0, []
        for start, (index, payload) in sorted(self.chunks[side].items()):
            if start + len(payload) > end:
                marks.append((end, index))
                out += payload[max(0, end - start):]
                end = start + len(payload)
        return bytes(out), marks


def connections(path):
    """The TCP connections in the file, in the order their first SYN was seen."""
    found, by_pair = [], {}
    for index, (src, dst, seq, flags, payload) in enumerate(tcp_segments(path)):
        key = frozenset((src, dst))
        if flags & SYN and not flags & ACK and (key not in by_pair or by_pair[key].client != src or by_pair[key].isn[src] != seq):
            by_pair[key] = Connection(len(found) + 1, src, dst, seq)
            found.append(by_pair[key])
        elif key in by_pair:
            by_pair[key].add(index, src, seq, flags, payload)
    return found


def packet_at(marks, offset):
    index = marks[0][1] if marks else 0
    for start, i in marks:
        if start > offset:
            break
        index = i
    return index


def cstrings(body):
    return [part.decode("utf-8", "replace") for part in body.split(b"\0")]


AUTH = {0: "AuthenticationOk", 2: "AuthenticationKerberosV5", 3: "AuthenticationCleartextPassword",
        5: "AuthenticationMD5Password", 7: "AuthenticationGSS", 8: "AuthenticationGSSContinue",
        9: "AuthenticationSSPI", 10: "AuthenticationSASL", 11: "AuthenticationSASLContinue",
        12: "AuthenticationSASLFinal"}
BACKEND = {"S": "ParameterStatus", "K": "BackendKeyData", "Z": "ReadyForQuery", "E": "ErrorResponse",
           "N": "NoticeResponse", "v": "NegotiateProtocolVersion", "T": "RowDescription", "D": "DataRow",
           "C": "CommandComplete", "1": "ParseComplete", "2": "BindComplete", "3": "CloseComplete",
           "n": "NoData", "t": "ParameterDescription", "I": "EmptyQueryResponse", "s": "PortalSuspended",
           "A": "NotificationResponse", "G": "CopyInResponse", "H": "CopyOutResponse", "W": "CopyBothResponse",
           "d": "CopyData", "c": "CopyDone", "V": "FunctionCallResponse", "R": "Authentication"}
FRONTEND = {"Q": "Query", "P": "Parse", "B": "Bind", "D": "Describe", "E": "Execute", "S": "Sync",
            "H": "Flush", "X": "Terminate", "C": "Close", "F": "FunctionCall", "d": "CopyData",
            "c": "CopyDone", "f": "CopyFail", "p": "PasswordMessage"}


def error_fields(body):
    fields = {}
    for part in body.split(b"\0"):
        if part:
            fields[chr(part[0])] = part[1:].decode("utf-8", "replace")
    return fields


def parse_connection(conn):
    """A dict describing the connection: its events in wire order and what they add up to."""
    c, cmarks = conn.stream(conn.client)
    s, smarks = conn.stream(conn.server)
    events = []  # (packet index, side, seq, name, detail)
    info = {"number": conn.number, "client_port": conn.client[1], "established": conn.established,
            "refused": conn.refused, "negotiation": [], "protocol": None, "parameters": None,
            "auth_requests": [], "sasl_mechanism": None, "password_sent": False, "auth_ok": False,
            "ready": False, "error": None, "negotiate_protocol_version": None, "encrypted": None,
            "queries": [], "terminate": False, "notices": 0, "data_row": False}

    def event(side, offset, name, detail=""):
        marks = cmarks if side == "C" else smarks
        events.append((packet_at(marks, offset), side, len(events), name, detail))

    ci = si = 0
    typed = True
    if c[:1] == b"\x16" and c[1:2] == b"\x03":  # a TLS record where a length belongs: direct TLS
        event("C", 0, "TLS ClientHello", "direct TLS (sslnegotiation=direct), no SSLRequest")
        info["negotiation"].append("direct-TLS")
        info["encrypted"] = "TLS"
        typed = False
    while typed and ci + 8 <= len(c):
        length, code = struct.unpack(">II", c[ci:ci + 8])
        if not 8 <= length <= 10000:
            event("C", ci, "invalid startup packet", f"length {length}")
            info["negotiation"].append(f"invalid-length-{length}")
            typed = False
            break
        if code in (SSL_REQUEST, GSSENC_REQUEST) and length == 8:
            name = "SSLRequest" if code == SSL_REQUEST else "GSSENCRequest"
            event("C", ci, name)
            ci += 8
            if si >= len(s):
                info["negotiation"].append(f"{name}->(no answer)")
                typed = False
                break
            answer = chr(s[si])
            if answer == "E":  # an old server's ErrorResponse: read on as typed messages
                info["negotiation"].append(f"{name}->ErrorResponse")
                break
            event("S", si, f"'{answer}'", {"S": "TLS accepted", "G": "GSSAPI encryption accepted", "N": "declined"}.get(answer, "?"))
            si += 1
            info["negotiation"].append(f"{name}->{answer}")
            if answer in "SG":
                info["encrypted"] = "TLS" if answer == "S" else "GSSAPI"
                event("S", si - 1, f"(then {len(c) - ci} client and {len(s) - si} server bytes {info['encrypted']}-encrypted)")
                typed = False
                break
            continue
        if code == CANCEL_REQUEST:
            event("C", ci, "CancelRequest")
            info["negotiation"].append("CancelRequest")
            ci += length
            typed = False
            break
        major, minor = code >> 16, code & 0xFFFF
        info["protocol"] = f"{major}.{minor}"
        if major == 2 and length == 296:
            body = c[ci + 8:ci + length]
            fields = [body[i:i + 64].split(b"\0")[0].decode("latin-1") for i in (0, 64, 128)]
            info["parameters"] = {"database": fields[0], "user": fields[1], "options": fields[2]}
        else:
            parts = cstrings(c[ci + 8:ci + length])
            info["parameters"] = {k: v for k, v in zip(parts[0::2], parts[1::2]) if k}
        event("C", ci, f"StartupMessage {info['protocol']}", " ".join(f"{k}={v}" for k, v in info["parameters"].items()))
        ci += max(length, 8)
        break

    if typed:
        last_auth = None
        while si + 5 <= len(s):
            kind, length = chr(s[si]), struct.unpack(">I", s[si + 1:si + 5])[0]
            body = s[si + 5:si + 1 + length]
            name, detail = BACKEND.get(kind, f"unknown {kind!r}"), ""
            if kind == "R" and len(body) >= 4:
                code = struct.unpack(">I", body[:4])[0]
                last_auth = code
                name = AUTH.get(code, f"Authentication {code}")
                if code == 10:
                    detail = " ".join(m for m in cstrings(body[4:]) if m)
                    info["auth_requests"].append(f"SASL({detail})")
                elif code == 0:
                    info["auth_ok"] = True
                elif code not in (11, 12):
                    info["auth_requests"].append({3: "cleartext", 5: "md5", 7: "GSS", 9: "SSPI", 2: "KerberosV5"}.get(code, str(code)))
            elif kind in "EN":
                fields = error_fields(body)
                detail = f"{fields.get('S', '')} {fields.get('C', '')} {fields.get('M', '')}"
                if kind == "E" and info["error"] is None:
                    info["error"] = f"{fields.get('C', '')} {fields.get('M', '')}"
                if kind == "N":
                    info["notices"] += 1
            elif kind == "S":
                detail = "=".join(cstrings(body)[:2])
            elif kind == "Z":
                info["ready"] = True
                detail = chr(body[0]) if body else ""
            elif kind == "C":
                detail = cstrings(body)[0]
            elif kind == "D":
                info["data_row"] = True
            elif kind == "v" and len(body) >= 8:
                newest, count = struct.unpack(">II", body[:8])
                options = [o for o in cstrings(body[8:]) if o][:count]
                # the protocol says "newest minor version"; PostgreSQL sends the whole version
                # code (PG_PROTOCOL_LATEST, 3 << 16 | minor): read both
                version = f"{newest >> 16}.{newest & 0xFFFF}" if newest > 0xFFFF else f"3.{newest}"
                info["negotiate_protocol_version"] = version + (f" unrecognized {','.join(options)}" if options else "")
                detail = info["negotiate_protocol_version"]
            event("S", si, name, detail)
            si += 1 + max(length, 4)
        # the client's typed messages; 'p' is read by what the server asked for last before it
        auth_seen = [e for e in events if e[1] == "S"]
        while ci + 5 <= len(c):
            kind, length = chr(c[ci]), struct.unpack(">I", c[ci + 1:ci + 5])[0]
            body = c[ci + 5:ci + 1 + length]
            name, detail = FRONTEND.get(kind, f"unknown {kind!r}"), ""
            if kind == "p":
                index = packet_at(cmarks, ci)
                before = [e for e in auth_seen if e[0] <= index and e[3].startswith("Authentication")]
                asked = before[-1][3] if before else ""
                if asked == "AuthenticationSASL":
                    name, detail = "SASLInitialResponse", cstrings(body)[0]
                    info["sasl_mechanism"] = detail
                elif asked == "AuthenticationSASLContinue":
                    name = "SASLResponse"
                else:
                    name = "PasswordMessage"
                    text = cstrings(body)[0]
                    detail = "md5..." if text.startswith("md5") and len(text) == 35 else f"({len(text)} characters)"
                    info["password_sent"] = True
            elif kind == "Q":
                detail = cstrings(body)[0]
                info["queries"].append(("simple", detail))
            elif kind == "P":
                parts = cstrings(body)
                detail = parts[1] if len(parts) > 1 else ""
                info["queries"].append(("extended", detail))
            elif kind == "X":
                info["terminate"] = True
            event("C", ci, name, detail)
            ci += 1 + max(length, 4)

    for side, label in ((conn.client, "client"), (conn.server, "server")):
        if side in conn.fin:
            events.append((conn.fin[side], "C" if label == "client" else "S", len(events), "FIN", f"{label} closed"))
        if side in conn.rst:
            events.append((conn.rst[side], "C" if label == "client" else "S", len(events), "RST", f"{label} reset"))
    events.sort()
    info["events"] = [(side, name, detail) for _, side, _, name, detail in events]
    info["server_bytes"] = len(s)

    first_close = sorted([(i, "client") for s_, i in conn.fin.items() if s_ == conn.client]
                         + [(i, "server") for s_, i in conn.fin.items() if s_ == conn.server]
                         + [(i, "client (RST)") for s_, i in conn.rst.items() if s_ == conn.client]
                         + [(i, "server (RST)") for s_, i in conn.rst.items() if s_ == conn.server])
    closer = first_close[0][1] if first_close else "nobody (still open)"
    info["ending"] = "Terminate, then client closed" if info["terminate"] else f"{closer} closed without Terminate"
    if info["terminate"] and closer != "client":
        info["ending"] = f"Terminate, then {closer} closed"
    return info


def auth_method(info):
    if info["sasl_mechanism"]:
        return info["sasl_mechanism"]
    if "md5" in info["auth_requests"] and info["password_sent"]:
        return "md5"
    if "cleartext" in info["auth_requests"] and info["password_sent"]:
        return "password"
    if info["auth_ok"] and not info["auth_requests"]:
        return "trust"
    if info["auth_requests"]:
        return f"(none: asked for {' '.join(info['auth_requests'])})"
    return "(none)"


def outcome(info):
    if info["negotiation"] == ["direct-TLS"]:
        return "direct TLS ClientHello, " + ("server answered (not readable)" if info["server_bytes"] else "server sent nothing")
    if info["encrypted"]:
        return f"{info['encrypted']} (not readable)"
    if info["error"]:
        return f"ErrorResponse {info['error']}"
    if info["ready"]:
        return "ReadyForQuery" + (", query answered" if info["data_row"] else "")
    if info["auth_requests"]:
        return "authentication requested, then closed"
    if info["protocol"]:
        return "startup sent, no answer"
    return "closed before a startup message"


def tsv_line(infos):
    if not infos:
        return "\t".join(["0"] + ["(no connection)"] * (len(TSV_FIELDS) - 1))
    with_startup = [i for i in infos if i["protocol"]]
    main = with_startup[-1] if with_startup else infos[-1]
    params = dict(main["parameters"] or {})
    named = [params.pop(k, "") for k in ("user", "database", "application_name", "client_encoding")]
    negotiation = " | ".join(" ".join(i["negotiation"]) or "none" for i in infos)
    protocol = main["protocol"] or "(none)"
    if main["negotiate_protocol_version"]:
        protocol += f" (NegotiateProtocolVersion {main['negotiate_protocol_version']})"
    queries = sorted({kind for kind, _ in main["queries"]})
    fields = [str(len(infos)), negotiation, protocol] + [v or "(not sent)" for v in named] + [
        "; ".join(f"{k}={v}" for k, v in params.items()) or "(none)",
        ",".join(main["parameters"] or {}) or "(none)",
        " ".join(main["auth_requests"] + (["AuthenticationOk"] if main["auth_ok"] else [])) or "(none)",
        auth_method(main), ",".join(queries) or "(none)", outcome(main),
        " | ".join(i["ending"] for i in infos)]
    return "\t".join(f.replace("\t", " ").replace("\n", " ") for f in fields)


def check(kind, infos):
    if kind == "complete":
        return any(i["protocol"] and i["auth_ok"] and i["ready"] and i["data_row"] and
                   (i["auth_requests"] or i["auth_ok"]) for i in infos)
    if kind == "tls-declined":
        return any("SSLRequest->N" in i["negotiation"] and not i["protocol"] for i in infos)
    if kind == "direct-tls":
        return any(i["negotiation"] == ["direct-TLS"] for i in infos)
    sys.exit(f"unknown check {kind}")


def main(argv):
    if argv[:1] == ["--tsv"]:
        print(tsv_line([parse_connection(c) for c in connections(argv[1]) if c.established]))
        return 0
    if argv[:1] == ["--check"]:
        kind, file = argv[1], argv[2]
        ok = check(kind, [parse_connection(c) for c in connections(file) if c.established])
        if not ok:
            print(f"{file}: does not show {kind}", file=sys.stderr)
        return 0 if ok else 1
    if argv[:1] == ["--json"]:
        for file in argv[1:]:
            for conn in connections(file):
                info = parse_connection(conn)
                info["file"] = file
                print(json.dumps(info))
        return 0
    for file in argv:
        conns = connections(file)
        print(f"{file}: {sum(c.established for c in conns)} TCP connection(s)"
              + (f", {sum(c.refused for c in conns)} refused" if any(c.refused for c in conns) else ""))
        for conn in conns:
            info = parse_connection(conn)
            print(f"  #{conn.number} from port {conn.client[1]}: {outcome(info)}; auth {auth_method(info)}; {info['ending']}")
            for side, name, detail in info["events"]:
                arrow = ">" if side == "C" else "<"
                print(f"    {arrow} {name}{' ' + detail if detail else ''}"[:160])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

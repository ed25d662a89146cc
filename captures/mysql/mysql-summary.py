#!/usr/bin/env python3
"""What a MySQL/MariaDB session's pcap shows in the clear, in one line per connection:

  python3 captures/mysql/mysql-summary.py FILE.pcap

For example "S:Greeting(10.11.19-MariaDB-0+deb12u1 mysql_native_password)
C:Response(harness mysql_native_password attrs:_client_name=libmariadb) S:AuthSwitch(client_ed25519)
C:AuthData(64) S:OK C:Query S:... C:Quit client-closed": the server's greeting (version, the
plugin it names), the client's HandshakeResponse (user, the plugin it asks for, its
_client_name and _client_version attributes; never the password) or SSLRequest, after which
the rest is "[TLS]", the server's AuthSwitchRequest, AuthMoreData, OK and ERR (with its code),
the client's further authentication data (its length) and commands, then who closed first
(client-closed, server-closed) or reset. Exits 1 if the file holds no whole connection (no SYN
from the client), which is how make.sh knows tcpdump missed it. Standard library only (the
connections are put together by ../mail-summary.py's reader).
"""
import importlib.util
import os
import struct
import sys

here = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location("mail_summary", os.path.join(here, "..", "mail-summary.py"))
mail_summary = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mail_summary)

CONNECT_WITH_DB, PROTOCOL_41, SSL, SECURE_CONNECTION = 0x8, 0x200, 0x800, 0x8000
PLUGIN_AUTH, CONNECT_ATTRS, PLUGIN_AUTH_LENENC = 0x80000, 0x100000, 0x200000
COMMANDS = {0x01: "Quit", 0x02: "InitDB", 0x03: "Query", 0x0E: "Ping", 0x16: "Prepare", 0x17: "Execute"}


def lenenc(data, at):
    """(value, next offset) of a length-encoded integer."""
    first = data[at]
    if first < 0xFB:
        return first, at + 1
    size = {0xFC: 2, 0xFD: 3, 0xFE: 8}.get(first)
    if size is None:
        raise ValueError("not a length-encoded integer")
    return int.from_bytes(data[at + 1:at + 1 + size], "little"), at + 1 + size


def cstring(data, at):
    end = data.index(b"\0", at)
    return data[at:end].decode("utf-8", "replace"), end + 1


def greeting(payload):
    if payload[0] == 0xFF:
        return f"S:ERR {struct.unpack('<H', payload[1:3])[0]}"
    version, at = cstring(payload, 1)
    at += 4 + 8 + 1  # thread id, scramble part 1, filler
    caps = struct.unpack("<H", payload[at:at + 2])[0]
    caps |= struct.unpack("<H", payload[at + 5:at + 7])[0] << 16
    scramble_length = payload[at + 7]
    at += 7 + 1 + 10  # the rest of the flags, the scramble length, reserved
    at += max(13, scramble_length - 8)
    plugin = cstring(payload, at)[0] if caps & PLUGIN_AUTH and at < len(payload) else "(none)"
    return f"S:Greeting({version} {plugin})"


def handshake_response(payload):
    caps = struct.unpack("<I", payload[:4])[0]
    if len(payload) == 32 and caps & SSL:
        return "C:SSLRequest", True
    if not caps & PROTOCOL_41:
        return "C:Response(pre-4.1)", False
    user, at = cstring(payload, 32)
    if caps & PLUGIN_AUTH_LENENC:
        length, at = lenenc(payload, at)
    elif caps & SECURE_CONNECTION:
        length, at = payload[at], at + 1
    else:
        length = payload.index(b"\0", at) - at + 1
    at += length
    if caps & CONNECT_WITH_DB:
        _, at = cstring(payload, at)
    plugin = "(no plugin auth)"
    if caps & PLUGIN_AUTH and at < len(payload):
        plugin, at = cstring(payload, at)
    words = [user, plugin]
    if caps & CONNECT_ATTRS and at < len(payload):
        total, at = lenenc(payload, at)
        attributes, end = {}, at + total
        while at < end:
            key_length, at = lenenc(payload, at)
            key = payload[at:at + key_length].decode("utf-8", "replace")
            value_length, at = lenenc(payload, at + key_length)
            attributes[key] = payload[at:at + value_length].decode("utf-8", "replace")
            at += value_length
        shown = [f"{k}={attributes[k]}" for k in ("_client_name", "_client_version") if k in attributes]
        words.append("attrs:" + (",".join(shown) if shown else "(none named)"))
    return f"C:Response({' '.join(words)})", False


def server_packet(payload, authenticated):
    kind = payload[0] if payload else None
    if kind == 0xFF:
        return f"S:ERR {struct.unpack('<H', payload[1:3])[0]}"
    if authenticated:
        return "S:..."
    if kind == 0x00:
        return "S:OK"
    if kind == 0xFE:
        return f"S:AuthSwitch({cstring(payload, 1)[0] if len(payload) > 1 else ''})"
    if kind == 0x01:
        return f"S:AuthMoreData({len(payload) - 1})"
    return f"S:0x{kind:02x}" if kind is not None else "S:(empty)"


def summarize(events):
    words, buffers, state = [], {"C": b"", "S": b""}, {"tls": False, "greeted": False, "answered": False, "ok": False}
    for side, data in events:
        if side == "end":
            words.append(data)
            continue
        if state["tls"]:
            continue
        buffers[side] += data
        while len(buffers[side]) >= 4 and not state["tls"]:
            length = int.from_bytes(buffers[side][:3], "little")
            if len(buffers[side]) < 4 + length:
                break
            payload, buffers[side] = buffers[side][4:4 + length], buffers[side][4 + length:]
            words.append(packet_word(side, payload, state))
    return " ".join(w for i, w in enumerate(words) if not (w == "S:..." and i and words[i - 1] == "S:..."))


def packet_word(side, payload, state):
    if side == "S" and not state["greeted"]:
        state["greeted"] = True
        return greeting(payload)
    if side == "C" and not state["answered"]:
        state["answered"] = True
        word, state["tls"] = handshake_response(payload)
        if state["tls"]:
            state["answered"] = False  # the real response comes inside TLS
            return word + " [TLS]"
        return word
    if side == "S":
        word = server_packet(payload, state["ok"])
        state["ok"] = state["ok"] or word == "S:OK"
        return word
    if state["ok"]:
        return "C:" + COMMANDS.get(payload[0], f"0x{payload[0]:02x}") if payload else "C:(empty)"
    return f"C:AuthData({len(payload)})"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    found = mail_summary.connections(sys.argv[1])
    if not found:
        print("(no connection)")
        sys.exit(1)
    print(" | ".join(summarize(events) for events in found))


main()

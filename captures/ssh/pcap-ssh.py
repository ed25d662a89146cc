"""Reads the SSH key exchange of each TCP connection in a pcap file (tcpdump's -w format), on its
own, without the harness: so the captures and the live runs are checked by something other than
the code under test.

  python3 pcap-ssh.py FILE...          a summary of each connection of each file
  python3 pcap-ssh.py --check FILE     exit 0 if some connection has the client's identification
                                       string, KEXINIT and key-exchange init, and the server's
                                       identification string, KEXINIT and key-exchange reply
  python3 pcap-ssh.py --tsv FILE       one tab-separated line for clients.tsv: the client's
                                       identification string, lines it sent before it, the first
                                       3 kex algorithms it offered, its KEXINIT's hassh (MD5 of
                                       kex;ciphers;macs;compression, client to server), the
                                       number of TCP connections, and of those that reached the
                                       server's key-exchange reply
  python3 pcap-ssh.py --reply FILE     "yes" if some connection reached the server's key-exchange
                                       reply, else "no: " and where the last connection stopped
  python3 pcap-ssh.py --live FILE      for live.sh, tab-separated: "yes" or "no" as --reply, then
                                       the algorithms negotiated from the two KEXINITs (kex, host
                                       key, cipher and MAC client to server; "-" for a class with
                                       no match, "<implicit>" for the MAC of an AEAD cipher), then
                                       where the last connection stopped (empty if it reached the
                                       reply)

The side that sent the first SYN is the client. Each direction is reassembled by sequence
number; SSH is read in the clear up to each side's NEWKEYS (lines before the identification
string, the identification string, then binary packets: uint32 packet_length, byte
padding_length, payload). The key-exchange method is negotiated as RFC 4253 section 7.1 says
(the client's first method the server also offers), so the reply is told apart: message 31 is
the reply of (EC)DH, curve25519 and sntrup761 methods but the group of a group exchange, whose
reply is 33.
"""
import hashlib
import struct
import sys

MSG_NAMES = {1: "DISCONNECT", 2: "IGNORE", 3: "UNIMPLEMENTED", 4: "DEBUG", 5: "SERVICE_REQUEST",
             6: "SERVICE_ACCEPT", 7: "EXT_INFO", 20: "KEXINIT", 21: "NEWKEYS", 30: "KEX_30",
             31: "KEX_31", 32: "KEX_32", 33: "KEX_33", 34: "KEX_DH_GEX_REQUEST"}
NAME_LISTS = ["kex", "hostkey", "cipher_cs", "cipher_sc", "mac_cs", "mac_sc", "comp_cs", "comp_sc",
              "lang_cs", "lang_sc"]


def read_pcap(path):
    """Yields (timestamp, frame bytes, linktype) for each packet of a classic pcap file."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 24:
        return
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        raise SystemExit(f"{path}: not a pcap file (pcapng is not read here)")
    linktype = struct.unpack(endian + "I", data[20:24])[0]
    offset = 24
    while offset + 16 <= len(data):
        sec, frac, incl, _orig = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        yield sec + frac / 1e6, data[offset:offset + incl], linktype
        offset += incl


def tcp_segments(path):
    """Yields (time, src, dst, sport, dport, seq, flags, payload) of each TCP segment."""
    for ts, frame, linktype in read_pcap(path):
        if linktype == 1:  # Ethernet
            ethertype = struct.unpack("!H", frame[12:14])[0]
            ip = frame[14:]
        elif linktype == 113:  # Linux cooked capture
            ethertype = struct.unpack("!H", frame[14:16])[0]
            ip = frame[16:]
        elif linktype in (0, 108):  # BSD loopback / null
            family = struct.unpack("<I", frame[:4])[0]
            ethertype = 0x0800 if family == 2 else 0x86DD
            ip = frame[4:]
        elif linktype == 101:  # raw IP
            ethertype = 0x0800 if frame[0] >> 4 == 4 else 0x86DD
            ip = frame
        else:
            continue
        if ethertype == 0x0800:
            ihl = (ip[0] & 15) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            if ip[9] != 6:
                continue
            src, dst = ip[12:16], ip[16:20]
            tcp = ip[ihl:total]
        elif ethertype == 0x86DD:
            if ip[6] != 6:
                continue
            plen = struct.unpack("!H", ip[4:6])[0]
            src, dst = ip[8:24], ip[24:40]
            tcp = ip[40:40 + plen]
        else:
            continue
        sport, dport, seq = struct.unpack("!HHI", tcp[:8])
        offset = (tcp[12] >> 4) * 4
        flags = tcp[13]
        yield ts, src, dst, sport, dport, seq, flags, tcp[offset:]


def connections(path):
    """Returns a list of connections, each {"client": bytes, "server": bytes, "client_port",
    "server_port"}, the two directions' reassembled streams, in order of their first SYN."""
    conns = {}
    order = []
    for _ts, src, dst, sport, dport, seq, flags, payload in tcp_segments(path):
        syn, ack = flags & 0x02, flags & 0x10
        a, b = (src, sport), (dst, dport)
        key = tuple(sorted([a, b]))
        if syn and not ack:
            # a new connection (a reused port pair starts over)
            if key in conns and conns[key]["segments"][a]:
                order.append(conns[key])
            conns[key] = {"client_end": a, "server_end": b, "isn": {a: seq + 1},
                          "segments": {a: [], b: []}}
            continue
        conn = conns.get(key)
        if conn is None:
            continue
        if syn and ack:
            conn["isn"][a] = seq + 1
            continue
        if payload and a in conn["isn"]:
            conn["segments"][a].append(((seq - conn["isn"][a]) & 0xFFFFFFFF, payload))
    order.extend(conns.values())
    result = []
    for conn in order:
        streams = {}
        for end, segments in conn["segments"].items():
            buf = bytearray()
            for rel, payload in sorted(segments, key=lambda s: s[0]):
                if rel > len(buf):
                    break  # a gap: keep what came before it
                buf += payload[len(buf) - rel:]
            streams[end] = bytes(buf)
        result.append({"client": streams[conn["client_end"]], "server": streams[conn["server_end"]],
                       "client_port": conn["client_end"][1], "server_port": conn["server_end"][1]})
    return result


def read_ssh(stream):
    """The lines before the identification string, the identification string (or None) and the
    clear-text packets as (type, payload) up to and including NEWKEYS."""
    pre, ident, pos = [], None, 0
    while pos < len(stream) and len(pre) < 1000:
        end = stream.find(b"\n", pos)
        if end < 0:
            break
        line = stream[pos:end].rstrip(b"\r").decode("latin-1")
        pos = end + 1
        if line.startswith("SSH-"):
            ident = line
            break
        pre.append(line)
    packets = []
    while ident is not None and pos + 5 <= len(stream):
        length, padding = struct.unpack("!IB", stream[pos:pos + 5])
        if length > 256 * 1024 or length < 1 + padding:
            break
        if pos + 4 + length > len(stream):
            break
        payload = stream[pos + 5:pos + 4 + length - padding]
        pos += 4 + length
        if payload:
            packets.append((payload[0], payload))
            if payload[0] == 21:
                break
    return pre, ident, packets


def parse_kexinit(payload):
    lists, pos = {}, 17
    for name in NAME_LISTS:
        (n,) = struct.unpack("!I", payload[pos:pos + 4])
        lists[name] = payload[pos + 4:pos + 4 + n].decode("latin-1").split(",") if n else []
        pos += 4 + n
    lists["first_kex_packet_follows"] = payload[pos] if pos < len(payload) else None
    return lists


def negotiate(client_list, server_list):
    for name in client_list:
        if name in server_list:
            return name
    return None


AEAD = ("chacha20-poly1305@openssh.com", "aes128-gcm@openssh.com", "aes256-gcm@openssh.com",
        "AEAD_AES_128_GCM", "AEAD_AES_256_GCM")


def negotiate_all(c, s):
    """kex, host key, cipher and MAC (client to server) by RFC 4253 section 7.1; None where no
    algorithm matches, "<implicit>" for the MAC of an AEAD cipher."""
    if not c or not s:
        return {}
    cipher = negotiate(c["cipher_cs"], s["cipher_cs"])
    mac = "<implicit>" if cipher in AEAD else negotiate(c["mac_cs"], s["mac_cs"])
    return {"kex": negotiate(c["kex"], s["kex"]), "hostkey": negotiate(c["hostkey"], s["hostkey"]),
            "cipher": cipher, "mac": mac}


def analyse(conn):
    c_pre, c_ident, c_packets = read_ssh(conn["client"])
    s_pre, s_ident, s_packets = read_ssh(conn["server"])
    c_kexinit = next((parse_kexinit(p) for t, p in c_packets if t == 20), None)
    s_kexinit = next((parse_kexinit(p) for t, p in s_packets if t == 20), None)
    kex = negotiate(c_kexinit["kex"], s_kexinit["kex"]) if c_kexinit and s_kexinit else None
    gex = bool(kex and kex.startswith("diffie-hellman-group-exchange"))
    reply_type = 33 if gex else 31
    init_types = (34, 30) if gex else (30,)  # a group exchange starts with its request
    c_types = [t for t, _ in c_packets]
    s_types = [t for t, _ in s_packets]
    hassh = None
    if c_kexinit:
        hassh = hashlib.md5(";".join(",".join(c_kexinit[k]) for k in
                                     ("kex", "cipher_cs", "mac_cs", "comp_cs")).encode()).hexdigest()
    disconnect = None
    for t, p in s_packets:
        if t == 1 and len(p) >= 9:
            (n,) = struct.unpack("!I", p[5:9])
            disconnect = p[9:9 + n].decode("utf-8", "replace")
    return {
        "client_port": conn["client_port"], "server_port": conn["server_port"],
        "client_pre": c_pre, "client_ident": c_ident, "server_pre": s_pre, "server_ident": s_ident,
        "client_kexinit": c_kexinit, "server_kexinit": s_kexinit, "kex": kex,
        "client_types": c_types, "server_types": s_types, "hassh": hassh,
        "client_kex_init": any(t in init_types for t in c_types),
        "server_reply": kex is not None and reply_type in s_types, "disconnect": disconnect,
        "client_bytes": len(conn["client"]), "server_bytes": len(conn["server"]),
        "negotiated": negotiate_all(c_kexinit, s_kexinit),
    }


def where_stopped(a):
    if a["client_ident"] is None:
        return "no client identification string"
    if a["server_ident"] is None:
        return "no server identification string"
    if a["client_kexinit"] is None:
        return "no client KEXINIT"
    if a["server_kexinit"] is None:
        return "no server KEXINIT"
    for key, what in (("kex", "kex algorithm"), ("hostkey", "host key algorithm"),
                      ("cipher", "cipher (client to server)"), ("mac", "MAC (client to server)")):
        if a["negotiated"].get(key) is None:
            return f"no common {what}"
    if not a["client_kex_init"]:
        return f"client sent no key-exchange init for {a['kex']}"
    if a["disconnect"]:
        return f"server disconnected: {a['disconnect']}"
    return f"no server key-exchange reply for {a['kex']} (server sent {names(a['server_types'])})"


def names(types):
    return ",".join(MSG_NAMES.get(t, str(t)) for t in types) or "nothing"


def main(argv):
    mode = argv[0] if argv and argv[0].startswith("--") else None
    files = argv[1:] if mode else argv
    if not files:
        print(__doc__, file=sys.stderr)
        return 2
    status = 0
    for path in files:
        found = [analyse(c) for c in connections(path)]
        ssh = [a for a in found if a["client_ident"] or a["server_ident"]]
        if mode == "--check":
            ok = any(a["client_ident"] and a["client_kexinit"] and a["client_kex_init"] and
                     a["server_ident"] and a["server_kexinit"] and a["server_reply"] for a in ssh)
            if not ok:
                why = where_stopped(ssh[-1]) if ssh else "no SSH connection"
                print(f"{path}: no complete key exchange ({why})", file=sys.stderr)
                status = 1
        elif mode == "--reply":
            if any(a["server_reply"] for a in ssh):
                print("yes")
            else:
                print("no: " + (where_stopped(ssh[-1]) if ssh else "no SSH connection"))
        elif mode == "--live":
            best = next((a for a in ssh if a["server_reply"]), ssh[-1] if ssh else None)
            if best is None:
                print("\t".join(["no", "-", "-", "-", "-", "no SSH connection"]))
                continue
            n = best["negotiated"]
            print("\t".join(["yes" if best["server_reply"] else "no"] +
                            [n.get(k) or "-" for k in ("kex", "hostkey", "cipher", "mac")] +
                            ["" if best["server_reply"] else where_stopped(best)]))
        elif mode == "--tsv":
            first = next((a for a in ssh if a["client_kexinit"]), ssh[0] if ssh else None)
            if first is None:
                print("\t".join(["-"] * 4 + [str(len(found)), "0"]))
                continue
            kex = first["client_kexinit"]["kex"][:3] if first["client_kexinit"] else []
            print("\t".join([
                first["client_ident"] or "-",
                " | ".join(first["client_pre"]) or "-",
                ",".join(kex) or "-",
                first["hassh"] or "-",
                str(len(found)),
                str(sum(1 for a in ssh if a["server_reply"])),
            ]))
        else:
            print(f"{path}: {len(found)} TCP connection(s)")
            for a in found:
                print(f"  port {a['client_port']} -> {a['server_port']}: client {a['client_ident']!r}"
                      f" ({a['client_bytes']} bytes), server {a['server_ident']!r}"
                      f" ({a['server_bytes']} bytes)")
                if a["client_pre"] or a["server_pre"]:
                    print(f"    lines before identification: client {a['client_pre']}, server {a['server_pre']}")
                ck = a["client_kexinit"]
                if ck:
                    print(f"    client kex: {','.join(ck['kex'])}")
                    print(f"    client host key: {','.join(ck['hostkey'])}")
                    print(f"    client ciphers: {','.join(ck['cipher_cs'])}")
                    print(f"    client MACs: {','.join(ck['mac_cs'])}")
                    print(f"    first_kex_packet_follows: {ck['first_kex_packet_follows']}  hassh: {a['hassh']}")
                print(f"    negotiated kex: {a['kex']}; client sent {names(a['client_types'])};"
                      f" server sent {names(a['server_types'])}; reply: {'yes' if a['server_reply'] else 'no'}")
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""Packets of a classic pcap file, read with the standard library only: the IP packets on
Ethernet, Linux cooked (v1, v2), BSD loopback and raw IP links, and the TCP segments in them.
Shared by http/pcap-summary.py and postgres/pg-summary.py, which put the segments together
into each connection's byte streams.
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        endian = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        endian = ">"
    else:
        sys.exit(f"{path}: not a classic pcap file")
    linktype = struct.unpack(endian + "I", data[20:24])[0] & 0x0FFFFFFF
    offset = 24
    while offset + 16 <= len(data):
        _, _, caplen, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        frame = data[offset + 16:offset + 16 + caplen]
        offset += 16 + caplen
        ip = link_payload(linktype, frame)
        if ip is not None:
            yield ip


def link_payload(linktype, frame):
    if linktype == 1:  # Ethernet, which Linux's lo uses
        ethertype, start = struct.unpack(">H", frame[12:14])[0], 14
        while ethertype in (0x8100, 0x88A8):
            ethertype, start = struct.unpack(">H", frame[start + 2:start + 4])[0], start + 4
        return frame[start:] if ethertype in (0x0800, 0x86DD) else None
    if linktype == 113:  # Linux cooked v1
        return frame[16:]
    if linktype == 276:  # Linux cooked v2
        return frame[20:]
    if linktype in (0, 108):  # BSD loopback
        return frame[4:]
    if linktype in (101, 12, 14):  # raw IP
        return frame
    sys.exit(f"unsupported link type {linktype}")


def tcp_segments(path):
    """(src, dst, seq, flags, payload) for each TCP segment; src and dst are (address, port)."""
    for ip in packets(path):
        version = ip[0] >> 4
        if version == 4:
            header, proto, total = (ip[0] & 15) * 4, ip[9], struct.unpack(">H", ip[2:4])[0]
            src, dst, ip = ip[12:16], ip[16:20], ip[:total]
        elif version == 6:
            header, proto = 40, ip[6]
            src, dst = ip[8:24], ip[24:40]
            ip = ip[:40 + struct.unpack(">H", ip[4:6])[0]]
        else:
            continue
        if proto != 6:
            continue
        tcp = ip[header:]
        sport, dport, seq = struct.unpack(">HHI", tcp[:8])
        flags = tcp[13]
        yield (src, sport), (dst, dport), seq, flags, tcp[(tcp[12] >> 4) * 4:]

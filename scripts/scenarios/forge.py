#!/usr/bin/env python3
"""The router's packet forger for the rstscope capture scenarios (standard library only).

Runs in the router namespace, sniffs one interface (AF_PACKET) for the first TCP segment whose
payload contains MATCH, and then:

    inject  send an in-window RST|ACK to both endpoints (an on-path "content filter" that
            injects resets, like an IDS or a national firewall). The forged packets carry the
            router's own TTL (64), while real endpoint packets reach the capture points with 63.
    oow     the same, but with sequence numbers 2**30 beyond the window: both endpoints must
            ignore them (no challenge ACK for an out-of-window RST).
    replay  wait DELAY seconds, then send the matched segment again, byte for byte except the
            TTL decremented as forwarding would (a late duplicate delivered after close).

    forge.py <mode> <iface> <match> <workdir> <scenario> [delay]

Every packet sent is appended to <workdir>/<scenario>.forged.jsonl.
"""

import json
import os
import socket
import struct
import sys
import time

ETH_P_IP = 0x0800
PACKET_OUTGOING = 4


def csum(data):
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return (~s) & 0xFFFF


def ip_header(src, dst, payload_len, ttl, ipid=0):
    hdr = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ipid, 0x4000, ttl,
                      socket.IPPROTO_TCP, 0, socket.inet_aton(src), socket.inet_aton(dst))
    return hdr[:10] + struct.pack("!H", csum(hdr)) + hdr[12:]


def tcp_rst(src, dst, sport, dport, seq, ack, ttl=64):
    flags = 0x04 | 0x10  # RST|ACK
    tcp = struct.pack("!HHIIBBHHH", sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF,
                      5 << 4, flags, 0, 0, 0)
    pseudo = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!BBH", 0, 6, len(tcp))
    tcp = tcp[:16] + struct.pack("!H", csum(pseudo + tcp)) + tcp[18:]
    return ip_header(src, dst, len(tcp), ttl) + tcp


def parse(frame):
    """Ethernet/IPv4/TCP -> dict, or None."""
    if len(frame) < 14 + 20 or struct.unpack("!H", frame[12:14])[0] != ETH_P_IP:
        return None
    ip = frame[14:]
    ihl = (ip[0] & 0x0F) * 4
    total = struct.unpack("!H", ip[2:4])[0]
    if ip[9] != socket.IPPROTO_TCP:
        return None
    ip = ip[:total]
    tcp = ip[ihl:]
    sport, dport, seq, ack, off = struct.unpack("!HHIIB", tcp[:13])
    doff = (off >> 4) * 4
    return {
        "ip": ip, "src": socket.inet_ntoa(ip[12:16]), "dst": socket.inet_ntoa(ip[16:20]),
        "sport": sport, "dport": dport, "seq": seq, "ack": ack, "flags": tcp[13],
        "payload": tcp[doff:],
    }


def main():
    mode, iface, match, workdir, scenario = sys.argv[1:6]
    delay = float(sys.argv[6]) if len(sys.argv) > 6 else 0.0
    match = match.encode()
    log_path = os.path.join(workdir, f"{scenario}.forged.jsonl")
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_IP))
    sniff.bind((iface, 0))
    sniff.settimeout(30)
    out = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    open(os.path.join(workdir, f"{scenario}.forge-ready"), "w").close()

    while True:
        frame, addr = sniff.recvfrom(65535)
        if addr[2] == PACKET_OUTGOING:
            continue
        p = parse(frame)
        if p and match in p["payload"]:
            break

    def send(pkt, what, **kw):
        out.sendto(pkt, (socket.inet_ntoa(pkt[16:20]), 0))
        rec = {"what": what, "t": time.time(), "src": socket.inet_ntoa(pkt[12:16]),
               "dst": socket.inet_ntoa(pkt[16:20]), "ttl": pkt[8]}
        rec.update(kw)
        with open(log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    a_next = p["seq"] + len(p["payload"])  # what the matched packet's receiver expects next
    b_next = p["ack"]                       # what the matched packet's sender expects next
    if mode in ("inject", "oow"):
        off = 0 if mode == "inject" else 1 << 30
        time.sleep(delay)
        # to the receiver of the matched packet, spoofing its sender
        send(tcp_rst(p["src"], p["dst"], p["sport"], p["dport"], a_next + off, b_next),
             f"rst-{mode}", sport=p["sport"], dport=p["dport"], seq=(a_next + off) & 0xFFFFFFFF)
        # to the sender of the matched packet, spoofing its receiver
        send(tcp_rst(p["dst"], p["src"], p["dport"], p["sport"], b_next + off, a_next),
             f"rst-{mode}", sport=p["dport"], dport=p["sport"], seq=(b_next + off) & 0xFFFFFFFF)
    elif mode == "replay":
        time.sleep(delay)
        ip = bytearray(p["ip"])
        ip[8] -= 1  # as if forwarded
        ip[10:12] = b"\0\0"
        ip[10:12] = struct.pack("!H", csum(bytes(ip[:(ip[0] & 0x0F) * 4])))
        send(bytes(ip), "replay", sport=p["sport"], dport=p["dport"], seq=p["seq"])
    else:
        sys.exit(f"unknown mode {mode}")


if __name__ == "__main__":
    main()

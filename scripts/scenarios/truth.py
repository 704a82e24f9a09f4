#!/usr/bin/env python3
"""Write and verify tests/fixtures/scenarios/truth.json (standard library only).

    truth.py <fixtures dir> <work dir> <scenario>...

reads the new captures and logs from <work dir>, the previous truth.json from <fixtures dir>
(to keep the scenarios not regenerated), and writes <work dir>/truth.json; make-scenarios.sh
copies captures and truth into the fixtures only when everything verified.

The truth comes from SPEC below: what each scenario set up (who sends which RST, and why).
This program then reads both captures of each scenario, finds every RST, matches each one to
exactly one SPEC entry, and checks the evidence that the capture really shows it:

  * an RST from a real endpoint leaves it with TTL 64 and its own MAC, and reaches the other
    capture point with TTL 63 and the router's MAC, with the same sequence number;
  * an RST forged by the router carries the router's TTL (64) where the endpoint it claims to
    come from arrives with 63, and never appears at that endpoint's own capture point;
  * connection outcomes (completed, reset, refused, timeout, unfinished, absent) agree with the
    SYN/FIN/RST packets seen at each point;
  * scenario-specific facts (retransmissions, zero windows, the replayed late segment, ...).

Any disagreement is an error (exit status 1): the captures are then not what SPEC says.
The application-level events (from endpoints.py) and forged packets (from forge.py) are
recorded beside the truth. truth.json keeps the entries of scenarios not regenerated this run.
"""

import json
import os
import socket
import struct
import sys

CLIENT_IP = "10.77.1.2"
SERVER_IP = "10.77.2.2"
MAC = {
    "client": "02:77:00:01:00:02",
    "router_client_side": "02:77:00:01:00:01",
    "router_server_side": "02:77:00:02:00:01",
    "server": "02:77:00:02:00:02",
}
INITIAL_TTL = 64  # every namespace uses the Linux default

ORDER = ["refused", "abortive_close", "data_after_close", "idle_timeout", "middlebox_reject",
         "middlebox_inject", "mass_reset", "retransmission_timeout", "zero_window_stall",
         "out_of_window", "after_close", "syn_timeout", "random_loss", "everyday"]

CAUSES = {
    "refused": "SYN answered by RST: nothing listens on the port.",
    "abortive_close": "The application aborted an established connection: close() with "
                      "SO_LINGER 0, or close() with unread data in the receive buffer.",
    "data_after_close": "Keep-alive race: the server closed an idle connection (FIN) and the "
                        "client's next request reached a socket that was already closed.",
    "idle_timeout": "A stateful middlebox forgot an idle connection and answered its next "
                    "segment with a forged RST.",
    "middlebox": "A middlebox forged an RST (content filter, policy rule, injector).",
    "mass_reset": "Many connections of one process reset together (the process was killed).",
    "retransmission_timeout": "A sender gave up after retransmitting into a black hole; the "
                              "connection is gone on its side, and a later segment from the "
                              "peer is answered with RST.",
    "zero_window_stall": "The receiver stopped reading, the window closed, and the sender "
                         "aborted after waiting.",
    "out_of_window": "An RST whose sequence number lies outside the receiver's window: a "
                     "forgery (or garbage) that the receiver ignores.",
    "after_close": "A late segment arrived after both sides had closed; the stack that no "
                   "longer has the connection answers with RST.",
}

OUTCOMES = {
    "completed": "handshake, FIN in both directions; no RST ended it (a late RST may follow)",
    "reset": "an RST ended the connection (as seen at this capture point)",
    "refused": "the SYN was answered by RST",
    "timeout": "SYNs were never answered; the client gave up",
    "unfinished": "the capture ends with the connection neither closed nor reset here",
    "absent": "no packet of this connection at this capture point",
}

EFFECTS = {
    "ends_connection": "the receiver accepted the RST and tore its connection (or attempt) down",
    "ignored": "the receiver discarded the RST (sequence number outside its window)",
    "no_connection": "the receiver had no connection left (TIME_WAIT or nothing)",
}

BOTH = ["client", "server"]


def rst(conn, direction, sender, cause, alternates=(), seen_at=BOTH, effect="ends_connection",
        note=""):
    return {"conn": conn, "dir": direction, "sender": sender, "cause": cause,
            "alternates": list(alternates), "seen_at": list(seen_at), "effect": effect,
            "note": note}


def conn(outcome_client, outcome_server, cause=None, reset_by=None, alternates=(),
         server_port=8080, summary=""):
    return {"outcome": {"client": outcome_client, "server": outcome_server}, "cause": cause,
            "reset_by": reset_by, "alternates": list(alternates), "server_port": server_port,
            "summary": summary}


SPEC = {
    "refused": {
        "description": "The client connects twice to port 9 of the server, where nothing "
                       "listens; the server's stack answers each SYN with RST|ACK.",
        "setup": ["no listener on 10.77.2.2:9"],
        "connections": {
            40001: conn("refused", "refused", "refused", "server", server_port=9,
                        summary="connect() fails with ECONNREFUSED"),
            40002: conn("refused", "refused", "refused", "server", server_port=9,
                        summary="the retry 0.2 s later fails the same way"),
        },
        "rsts": [
            rst(40001, "s2c", "server", "refused", note="RST|ACK to the SYN, seq 0"),
            rst(40002, "s2c", "server", "refused", note="RST|ACK to the SYN, seq 0"),
        ],
    },
    "abortive_close": {
        "description": "Two ways a server application aborts an established connection. "
                       "40101: the server answers GET /abort, then closes with SO_LINGER 0. "
                       "40102: the client POSTs a 3000-byte body; the server reads only 64 "
                       "bytes, answers 413 and close()s with the rest unread.",
        "setup": ["server: setsockopt(SO_LINGER, {1, 0}) before close() (40101)",
                  "server: close() with ~3000 unread bytes in the receive buffer (40102)"],
        "connections": {
            40101: conn("reset", "reset", "abortive_close", "server",
                        summary="response delivered, then RST 0.2 s later; client recv() "
                                "gets ECONNRESET"),
            40102: conn("reset", "reset", "abortive_close", "server",
                        summary="413 response, then RST at once instead of FIN"),
        },
        "rsts": [
            rst(40101, "s2c", "server", "abortive_close", note="close() with SO_LINGER 0"),
            rst(40102, "s2c", "server", "abortive_close",
                note="close() with unread data in the receive buffer"),
        ],
    },
    "data_after_close": {
        "description": "HTTP-like keep-alive race. The server closes a connection after "
                       "1.0 s idle (FIN); the client, which has not read the FIN, sends its "
                       "next request at 1.3 s on the pooled connection; the server's stack, "
                       "whose socket is closed, answers with RST.",
        "setup": ["server idle timeout 1.0 s", "client reuses the connection after 1.3 s"],
        "connections": {
            40201: conn("reset", "reset", "data_after_close", "server",
                        summary="GET /first ok; server FIN at 1.0 s; GET /second at 1.3 s "
                                "answered by RST"),
        },
        "rsts": [rst(40201, "s2c", "server", "data_after_close",
                     note="RST (no ACK flag) answering the request sent after the FIN")],
    },
    "idle_timeout": {
        "description": "The router is a stateful firewall (conntrack, established timeout "
                       "2 s) that REJECTs with tcp-reset any TCP segment it does not know. "
                       "The client idles 3 s, then sends its next request: the router forges "
                       "an RST in the server's name. The server never learns of it.",
        "setup": ["router: iptables FORWARD: ACCEPT ctstate ESTABLISHED,RELATED; ACCEPT NEW "
                  "SYN from r1; REJECT --reject-with tcp-reset for other TCP",
                  "router: net.netfilter.nf_conntrack_tcp_timeout_established=2",
                  "client idles 3.0 s between two requests"],
        "connections": {
            40301: conn("reset", "unfinished", "idle_timeout", "middlebox", ["middlebox"],
                        summary="client gets ECONNRESET; the server still holds the "
                                "connection (half-open) when the capture ends"),
        },
        "rsts": [rst(40301, "s2c", "middlebox", "idle_timeout", ["middlebox"], seen_at=["client"],
                     note="forged by the router's REJECT rule; source address is the server's; "
                          "the request that triggered it was dropped")],
    },
    "middlebox_reject": {
        "description": "The router filters content: a client segment containing 'GET /admin' "
                       "is dropped and answered with an RST forged in the server's name "
                       "(iptables string match + REJECT --reject-with tcp-reset). A second "
                       "connection with an innocent request completes normally.",
        "setup": ["router: iptables FORWARD -i r1 -p tcp --dport 8080 -m string --string "
                  "'GET /admin' --algo bm -j REJECT --reject-with tcp-reset"],
        "connections": {
            40401: conn("reset", "unfinished", "middlebox", "middlebox",
                        summary="GET /index.html ok, GET /admin/secret answered by a forged "
                                "RST; the server never sees the request"),
            40402: conn("completed", "completed", summary="normal request, client closes"),
        },
        "rsts": [rst(40401, "s2c", "middlebox", "middlebox", seen_at=["client"],
                     note="forged by the router's REJECT rule on a content match")],
    },
    "middlebox_inject": {
        "description": "An on-path injector on the router (forge.py inject) watches the "
                       "server's responses; when one contains 'forbidden' it lets it through "
                       "and 20 ms later injects an in-window RST|ACK towards each end, each "
                       "spoofing the other end.",
        "setup": ["router: forge.py inject r2 'forbidden' (delay 0.02 s)"],
        "connections": {
            40501: conn("reset", "reset", "middlebox", "middlebox",
                        summary="the response is delivered, then both ends are reset; the "
                                "client's next send fails with ECONNRESET, the server's recv "
                                "too"),
        },
        "rsts": [
            rst(40501, "s2c", "middlebox", "middlebox", seen_at=["client"],
                note="injected towards the client, source address the server's"),
            rst(40501, "c2s", "middlebox", "middlebox", seen_at=["server"],
                note="injected towards the server, source address the client's"),
        ],
    },
    "mass_reset": {
        "description": "Eight client connections to one server process, which is killed "
                       "with SIGKILL. 40601-40604 had sent a request the busy server never "
                       "read: the kernel resets them at the kill. 40605-40608 had nothing "
                       "unread: the kernel sends FIN at the kill, and each one's next request "
                       "(0.3 s later) is answered with RST.",
        "setup": ["server process killed with kill -9 while holding 8 connections",
                  "4 connections with unread data, 4 without"],
        "connections": {
            **{p: conn("reset", "reset", "mass_reset", "server", ["abortive_close"],
                       summary="reset by the kill (unread data)")
               for p in range(40601, 40605)},
            **{p: conn("reset", "reset", "mass_reset", "server", ["data_after_close"],
                       summary="FIN at the kill, RST to the next request")
               for p in range(40605, 40609)},
        },
        "rsts": [rst(p, "s2c", "server", "mass_reset", ["abortive_close"],
                     note="RST|ACK sent by the kernel when the killed process's socket "
                          "closed with unread data") for p in range(40601, 40605)]
        + [rst(p, "s2c", "server", "mass_reset", ["data_after_close"],
               note="FIN at the kill; RST answering the client's request sent after it")
           for p in range(40605, 40609)],
    },
    "retransmission_timeout": {
        "description": "After a first exchange the router black-holes the connection (DROP "
                       "both directions). The client's request is retransmitted until its "
                       "stack gives up (net.ipv4.tcp_retries2=3): recv() fails with "
                       "ETIMEDOUT and NO RST is sent at that moment. The path then heals and "
                       "the server, which never noticed, sends a heartbeat: the client's "
                       "stack no longer has the connection and answers with RST.",
        "setup": ["client: net.ipv4.tcp_retries2=3",
                  "router: iptables -I FORWARD -p tcp --sport/--dport 40701 -j DROP, removed "
                  "after the client gave up"],
        "connections": {
            40701: conn("reset", "reset", "retransmission_timeout", "client", ["after_close"],
                        summary="request retransmitted ~5 times into the black hole; client "
                                "ETIMEDOUT; the server's later heartbeat is answered by RST"),
        },
        "rsts": [rst(40701, "c2s", "client", "retransmission_timeout", ["after_close"],
                     note="the client's stack, which dropped the connection after the "
                          "retransmission timeout, answers the server's heartbeat")],
    },
    "zero_window_stall": {
        "description": "The server (SO_RCVBUF 4096) never reads; the client sends a large "
                       "POST until the window is zero, sends zero-window probes for ~2.5 s, "
                       "then aborts with SO_LINGER 0.",
        "setup": ["server: SO_RCVBUF 4096, never reads", "client: SO_SNDBUF 4096, "
                  "SO_LINGER 0 close after 2.5 s of zero window"],
        "connections": {
            40801: conn("reset", "reset", "zero_window_stall", "client", ["abortive_close"],
                        summary="window goes to 0, probes, client RST"),
        },
        "rsts": [rst(40801, "c2s", "client", "zero_window_stall", ["abortive_close"],
                     note="SO_LINGER 0 close by the client while the server's window is 0")],
    },
    "out_of_window": {
        "description": "When the router sees the client's 'GET /3' it forges one RST|ACK "
                       "towards each end with a sequence number 2^30 beyond what the receiver "
                       "expects. Both stacks silently ignore them (no challenge ACK); the "
                       "connection carries on and closes normally.",
        "setup": ["router: forge.py oow r1 'GET /3 '"],
        "connections": {
            40901: conn("completed", "completed", summary="5 requests, normal close; the two "
                        "forged RSTs had no effect"),
        },
        "rsts": [
            rst(40901, "s2c", "middlebox", "out_of_window", ["middlebox"], seen_at=["client"],
                effect="ignored", note="forged towards the client, seq + 2^30"),
            rst(40901, "c2s", "middlebox", "out_of_window", ["middlebox"], seen_at=["server"],
                effect="ignored", note="forged towards the server, seq + 2^30"),
        ],
    },
    "after_close": {
        "description": "A connection completes (the client closes first, so the server's "
                       "side ends CLOSED and the client's in TIME_WAIT). 1 s after it saw the "
                       "request, the router delivers a copy of it again (a late duplicate, "
                       "TTL decremented as if forwarded). The server no longer has the "
                       "connection and answers with RST, which reaches the client in "
                       "TIME_WAIT.",
        "setup": ["router: forge.py replay r1 'GET /once' (delay 1.0 s)"],
        "connections": {
            41001: conn("completed", "completed", "after_close", "server",
                        summary="normal exchange and close; then the late duplicate and the "
                                "server's RST"),
        },
        "rsts": [rst(41001, "s2c", "server", "after_close", effect="no_connection",
                     note="the server's stack answers the late duplicate (no socket); the "
                          "client is in TIME_WAIT")],
    },
    "syn_timeout": {
        "description": "The router drops SYNs to port 8080. The client (tcp_syn_retries=1) "
                       "sends a SYN and retransmits it, then connect() fails with ETIMEDOUT "
                       "about 3 s later (the kernel that made the fixtures sent 3 SYNs, at 0, "
                       "1 and 2 s: Linux >= 6.5 retransmits SYNs at linear intervals, "
                       "net.ipv4.tcp_syn_linear_timeouts, and gives up by elapsed time). No "
                       "RST anywhere; the server capture is empty (a valid pcap with no "
                       "packets).",
        "setup": ["client: net.ipv4.tcp_syn_retries=1",
                  "router: iptables FORWARD -p tcp --syn --dport 8080 -j DROP"],
        "connections": {
            41101: conn("timeout", "absent", summary="SYN + retransmissions, no answer, "
                         "ETIMEDOUT after ~3 s"),
        },
        "rsts": [],
    },
    "random_loss": {
        "description": "The router drops 10 % of forwarded TCP packets at random. A 64 KiB "
                       "response still completes, with retransmissions; no RST.",
        "setup": ["router: iptables FORWARD -p tcp -m statistic --mode random --probability "
                  "0.1 -j DROP"],
        "connections": {
            41201: conn("completed", "completed", summary="64 KiB download with "
                        "retransmissions, normal close"),
        },
        "rsts": [],
    },
    "everyday": {
        "description": "A demo: a browser-like client makes four connections to a keep-alive "
                       "HTTP server (idle timeout 1.0 s). Three complete normally. The pooled "
                       "connection 41302 is reused after 1.2 s idle, just after the server "
                       "closed it: the request is answered with RST (keep-alive race) and the "
                       "client retries on a new connection 41304, which succeeds.",
        "setup": ["server idle timeout 1.0 s"],
        "connections": {
            41301: conn("completed", "completed", summary="3 requests, client closes"),
            41302: conn("reset", "reset", "data_after_close", "server",
                        summary="1 request; idle; server FIN at 1.0 s; reused at 1.2 s; RST"),
            41303: conn("completed", "completed", summary="a 4 KiB image, client closes"),
            41304: conn("completed", "completed", summary="the retry, client closes"),
        },
        "rsts": [rst(41302, "s2c", "server", "data_after_close",
                     note="the server's stack answers a request sent after its FIN")],
    },
}


# ------------------------------------------------------------------ pcap

def read_pcap(path):
    with open(path, "rb") as f:
        data = f.read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError(f"{path}: not a pcap file")
    nano = magic in (b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")
    linktype = struct.unpack(e + "I", data[20:24])[0]
    assert linktype == 1, f"{path}: link type {linktype}, expected Ethernet"
    off, frame, pkts = 24, 0, []
    while off + 16 <= len(data):
        sec, frac, incl, orig = struct.unpack(e + "IIII", data[off:off + 16])
        raw = data[off + 16:off + 16 + incl]
        off += 16 + incl
        frame += 1
        ts = sec + frac / (1e9 if nano else 1e6)
        p = {"frame": frame, "ts": ts, "len": orig, "dst_mac": mac(raw[0:6]),
             "src_mac": mac(raw[6:12]), "tcp": False}
        if struct.unpack("!H", raw[12:14])[0] == 0x0800 and raw[14 + 9] == 6:
            ip = raw[14:]
            ihl = (ip[0] & 0x0F) * 4
            total = struct.unpack("!H", ip[2:4])[0]
            tcp = ip[ihl:total]
            sport, dport, seq, ack, doff, flags, win = struct.unpack("!HHIIBBH", tcp[:16])
            p.update(tcp=True, ttl=ip[8], ipid=struct.unpack("!H", ip[4:6])[0],
                     src=socket.inet_ntoa(ip[12:16]), dst=socket.inet_ntoa(ip[16:20]),
                     sport=sport, dport=dport, seq=seq, ack=ack, flags=flags, win=win,
                     plen=len(tcp) - (doff >> 4) * 4)
        pkts.append(p)
    return pkts


def mac(b):
    return ":".join(f"{x:02x}" for x in b)


def flag_str(f):
    return "".join(c for bit, c in ((0x02, "S"), (0x01, "F"), (0x04, "R"), (0x08, "P"),
                                    (0x10, "A"), (0x20, "U")) if f & bit)


def conn_key(p):
    if p["src"] == CLIENT_IP and p["dst"] == SERVER_IP:
        return p["sport"], "c2s"
    if p["src"] == SERVER_IP and p["dst"] == CLIENT_IP:
        return p["dport"], "s2c"
    return None, None


# ------------------------------------------------------------------ analysis

class Checker:
    def __init__(self, scenario):
        self.scenario = scenario
        self.errors = []

    def check(self, ok, msg):
        if not ok:
            self.errors.append(f"{self.scenario}: {msg}")
        return ok


def observe(pkts):
    """Per connection (client port): packets and simple facts, per direction."""
    conns = {}
    for p in pkts:
        if not p["tcp"]:
            continue
        port, d = conn_key(p)
        if port is None:
            continue
        c = conns.setdefault(port, {"pkts": [], "syn": 0, "synack": 0, "fin": {"c2s": 0, "s2c": 0},
                                    "rst": [], "retrans": {"c2s": 0, "s2c": 0}, "zero_win": 0,
                                    "max_end": {}, "bytes": {"c2s": 0, "s2c": 0}})
        c["pkts"].append(p)
        f = p["flags"]
        if f & 0x02 and not f & 0x10:
            c["syn"] += 1
            if c["syn"] > 1:
                c["retrans"][d] += 1
        if f & 0x02 and f & 0x10:
            c["synack"] += 1
        if f & 0x01:
            c["fin"][d] += 1
        if f & 0x04:
            c["rst"].append(p)
        elif p["win"] == 0 and not f & 0x02:
            c["zero_win"] += 1
        if p["plen"] > 0 and not f & 0x04:
            c["bytes"][d] += p["plen"]
            base = c["max_end"].setdefault(d, {"isn": p["seq"], "end": 0})
            rel_end = (p["seq"] - base["isn"] + p["plen"]) % (1 << 32)
            if rel_end <= base["end"]:
                c["retrans"][d] += 1
            else:
                base["end"] = rel_end
    return conns


def rst_record(p, t0):
    return {"frame": p["frame"], "time": round(p["ts"] - t0, 6),
            "src": f"{p['src']}:{p['sport']}", "dst": f"{p['dst']}:{p['dport']}",
            "flags": flag_str(p["flags"]), "seq": p["seq"], "ack": p["ack"], "ttl": p["ttl"],
            "ip_id": p["ipid"], "src_mac": p["src_mac"]}


def router_mac(point):
    return MAC["router_client_side"] if point == "client" else MAC["router_server_side"]


def analyse(name, work):
    spec = SPEC[name]
    ck = Checker(name)
    caps = {pt: read_pcap(os.path.join(work, f"{name}.{pt}.pcap")) for pt in BOTH}
    obs = {pt: observe(caps[pt]) for pt in BOTH}
    firsts = [caps[pt][0]["ts"] for pt in BOTH if caps[pt]]
    t0 = min(firsts) if firsts else 0.0

    out = {"description": spec["description"], "setup": spec["setup"], "captures": {},
           "connections": []}

    for pt in BOTH:
        other = "server" if pt == "client" else "client"
        pkts = caps[pt]
        ck.check(all(p["tcp"] and conn_key(p)[0] is not None for p in pkts),
                 f"{pt}: packets other than client<->server TCP")
        unknown = set(obs[pt]) - set(spec["connections"])
        ck.check(not unknown, f"{pt}: unexpected connections {sorted(unknown)}")

        # --- match RSTs to SPEC
        expected = [r for r in spec["rsts"] if pt in r["seen_at"]]
        rsts_out = []
        used = set()
        for port, c in sorted(obs[pt].items()):
            for p in c["rst"]:
                d = conn_key(p)[1]
                idx = next((i for i, r in enumerate(expected)
                            if i not in used and r["conn"] == port and r["dir"] == d), None)
                rec = rst_record(p, caps[pt][0]["ts"])
                if not ck.check(idx is not None, f"{pt}: unexpected RST {rec}"):
                    continue
                used.add(idx)
                r = expected[idx]
                rec.update(sender=r["sender"], primary_cause=r["cause"],
                           alternate_causes=r["alternates"], effect=r["effect"], note=r["note"])
                rec["evidence"] = evidence(ck, pt, other, p, r, c, obs)
                rsts_out.append(rec)
        for i, r in enumerate(expected):
            ck.check(i in used, f"{pt}: expected RST not found: {r}")
        rsts_out.sort(key=lambda r: r["frame"])

        # --- connections
        conns_out = []
        for port, cs in sorted(spec["connections"].items()):
            c = obs[pt].get(port)
            outcome = cs["outcome"][pt]
            ignored = {r["frame"] for r in rsts_out if r["effect"] == "ignored"}
            verify_outcome(ck, pt, port, outcome, c, ignored)
            rec = {"client_port": port, "server_port": cs["server_port"], "outcome": outcome}
            here = [r for r in rsts_out if r["src"].endswith(f":{port}") or
                    r["dst"].endswith(f":{port}")]
            if here:
                rec["reset_by"] = here[0]["sender"]
                rec["primary_cause"] = here[0]["primary_cause"]
                rec["alternate_causes"] = here[0]["alternate_causes"]
                rec["rst_frames"] = [r["frame"] for r in here]
            else:
                rec["reset_by"] = None
                rec["primary_cause"] = None
                rec["alternate_causes"] = []
                rec["rst_frames"] = []
            if c:
                rec.update(packets=len(c["pkts"]), first_frame=c["pkts"][0]["frame"],
                           last_frame=c["pkts"][-1]["frame"], syn=c["syn"],
                           syn_ack=c["synack"], fin=c["fin"], payload_bytes=c["bytes"],
                           retransmissions=c["retrans"], zero_window_adverts=c["zero_win"])
            else:
                rec["packets"] = 0
            conns_out.append(rec)

        path = os.path.join(work, f"{name}.{pt}.pcap")
        out["captures"][pt] = {
            "file": f"{name}.{pt}.pcap", "interface": "c0" if pt == "client" else "s0",
            "bytes": os.path.getsize(path), "packets": len(pkts),
            "rsts": rsts_out, "connections": conns_out,
        }
        ck.check(os.path.getsize(path) < 200_000, f"{pt}: capture larger than 200 KB")

    # --- connection-level truth and application events
    events = load_jsonl(os.path.join(work, f"{name}.events.jsonl"))
    for port, cs in sorted(spec["connections"].items()):
        evs = [{"t": round(e["ts"] - t0, 3),
                **{k: v for k, v in e.items() if k not in ("ts", "client_port")}}
               for e in events if e.get("client_port") == port]
        out["connections"].append({
            "client_port": port, "server_port": cs["server_port"],
            "primary_cause": cs["cause"], "alternate_causes": cs["alternates"],
            "reset_by": cs["reset_by"], "summary": cs["summary"],
            "outcome": cs["outcome"], "app_events": evs})

    forged = load_jsonl(os.path.join(work, f"{name}.forged.jsonl"))
    if forged:
        out["router_forged_packets"] = [{**f, "t": round(f["t"] - t0, 3)} for f in forged]
    counters = os.path.join(work, f"{name}.iptables.counters")
    if os.path.exists(counters):
        out["router_iptables_counters"] = [l.rstrip() for l in open(counters) if l.strip()]

    extra_checks(ck, name, obs, out)
    return out, ck.errors


def evidence(ck, pt, other, p, r, c, obs):
    claimed_src = "client" if r["dir"] == "c2s" else "server"
    peer_ttls = sorted({q["ttl"] for q in c["pkts"]
                        if conn_key(q)[1] == r["dir"] and not q["flags"] & 0x04})
    ev = {"ttl": p["ttl"], "src_mac": p["src_mac"], "claimed_source": claimed_src,
          "ttl_of_claimed_source_other_packets": peer_ttls}
    # is the same RST in the other capture?
    twin = [q for q in obs[other].get(r["conn"], {"rst": []})["rst"]
            if q["seq"] == p["seq"] and q["flags"] == p["flags"] and
            conn_key(q)[1] == r["dir"]]
    ev["in_other_capture"] = bool(twin)
    if twin:
        ev["other_capture_frame"] = twin[0]["frame"]
        ev["other_capture_ttl"] = twin[0]["ttl"]
    what = f"{pt}: RST frame {p['frame']} ({r['sender']})"
    if r["sender"] in ("client", "server"):
        ck.check(r["sender"] == claimed_src, f"{what}: sender is not the claimed source")
        if r["sender"] == pt:
            ck.check(p["ttl"] == INITIAL_TTL and p["src_mac"] == MAC[pt],
                     f"{what}: expected TTL 64 and the endpoint's own MAC")
        else:
            ck.check(p["ttl"] == INITIAL_TTL - 1 and p["src_mac"] == router_mac(pt),
                     f"{what}: expected TTL 63 via the router")
        if other in r["seen_at"]:
            ck.check(bool(twin), f"{what}: not found in the {other} capture")
        ev["verdict"] = (f"genuine: TTL {p['ttl']} matches the {claimed_src}'s other packets "
                         f"at this point")
        ck.check(not peer_ttls or peer_ttls == [p["ttl"]], f"{what}: TTL differs from peer's")
    else:  # middlebox
        ck.check(p["ttl"] == INITIAL_TTL and p["src_mac"] == router_mac(pt),
                 f"{what}: a router-forged RST should have TTL 64 and the router's MAC")
        ck.check(claimed_src != pt, f"{what}: forged RST claims to be from this point's host")
        ck.check(all(t == INITIAL_TTL - 1 for t in peer_ttls),
                 f"{what}: the claimed source's real packets should arrive with TTL 63")
        ck.check(not twin, f"{what}: a forged RST must not appear at the {other} capture")
        ev["verdict"] = (f"forged: TTL {p['ttl']} while the {claimed_src}'s real packets "
                         f"arrive with {peer_ttls}; absent from the {claimed_src}'s capture")
    return ev


def verify_outcome(ck, pt, port, outcome, c, ignored=()):
    what = f"{pt}: connection {port} outcome {outcome}"
    if outcome == "absent":
        ck.check(c is None, f"{what}: but packets were captured")
        return
    if not ck.check(c is not None, f"{what}: no packets"):
        return
    has_fin_both = c["fin"]["c2s"] > 0 and c["fin"]["s2c"] > 0
    if outcome == "completed":
        ck.check(c["syn"] and c["synack"] and has_fin_both, f"{what}: missing SYN/SYN-ACK/FINs")
        last_fin = max(q["frame"] for q in c["pkts"] if q["flags"] & 0x01)
        ck.check(all(q["frame"] > last_fin or q["frame"] in ignored for q in c["rst"]),
                 f"{what}: an RST before the FINs")
    elif outcome == "reset":
        ck.check(c["syn"] and c["synack"] and c["rst"], f"{what}: no handshake or no RST")
    elif outcome == "refused":
        ck.check(c["syn"] and not c["synack"] and c["rst"], f"{what}: not SYN answered by RST")
    elif outcome == "timeout":
        ck.check(c["syn"] >= 1 and not c["synack"] and not c["rst"], f"{what}: not a timeout")
    elif outcome == "unfinished":
        ck.check(c["synack"] and not c["rst"] and not has_fin_both,
                 f"{what}: closed or reset after all")
    else:
        ck.check(False, f"{what}: unknown outcome")


def extra_checks(ck, name, obs, out):
    cl, sv = obs["client"], obs["server"]
    if name == "syn_timeout":
        ck.check(cl[41101]["syn"] >= 2, "expected a SYN and its retransmission(s)")
    if name == "random_loss":
        r = cl[41201]["retrans"]["s2c"] + sv[41201]["retrans"]["s2c"] + \
            cl[41201]["retrans"]["c2s"] + sv[41201]["retrans"]["c2s"]
        ck.check(r > 0, "no retransmissions despite the random loss")
        ck.check(cl[41201]["bytes"]["s2c"] >= 65536, "the download did not complete")
    if name == "retransmission_timeout":
        ck.check(cl[40701]["retrans"]["c2s"] >= 3, "expected >= 3 retransmissions")
        evs = out["connections"][0]["app_events"]
        ck.check(any(e.get("error") == "ETIMEDOUT" for e in evs if e["role"] == "client"),
                 "the client did not see ETIMEDOUT")
    if name == "zero_window_stall":
        ck.check(sv[40801]["zero_win"] >= 1 and cl[40801]["zero_win"] >= 1,
                 "no zero-window advertisement")
    if name == "after_close":
        pk = sv[41001]["pkts"]
        last_fin = max(q["frame"] for q in pk if q["flags"] & 0x01)
        late = [q for q in pk if q["frame"] > last_fin and q["plen"] > 0 and q["src"] == CLIENT_IP]
        ck.check(len(late) == 1, "the late duplicate is not in the server capture")
        if late:
            orig = [q for q in pk if q["frame"] < last_fin and q["seq"] == late[0]["seq"]
                    and q["plen"] == late[0]["plen"]]
            ck.check(bool(orig) and orig[0]["ipid"] == late[0]["ipid"],
                     "the late segment is not a duplicate of an earlier one")
            out["late_segment"] = {"capture": "server", "frame": late[0]["frame"],
                                   "duplicate_of_frame": orig[0]["frame"] if orig else None,
                                   "ttl": late[0]["ttl"],
                                   "note": "re-sent by the router (forge.py replay)"}
    if name == "out_of_window":
        for pt, o in obs.items():
            c = o[40901]
            for p in c["rst"]:
                d = conn_key(p)[1]
                real = [q["seq"] for q in c["pkts"] if conn_key(q)[1] == d and not q["flags"] & 0x04]
                dist = min(abs(((p["seq"] - q + (1 << 31)) % (1 << 32)) - (1 << 31)) for q in real)
                ck.check(dist > 1 << 29, f"{pt}: RST frame {p['frame']} is not far out of window")


def load_jsonl(path):
    if not os.path.exists(path):
        return []
    return [json.loads(l) for l in open(path) if l.strip()]


def main():
    fixtures, work = sys.argv[1:3]
    names = sys.argv[3:] or ORDER
    old_path = os.path.join(fixtures, "truth.json")
    truth_path = os.path.join(work, "truth.json")
    old = {}
    if os.path.exists(old_path):
        try:
            old = json.load(open(old_path)).get("scenarios", {})
        except ValueError:
            old = {}
    scenarios, errors = dict(old), []
    for name in names:
        scen, errs = analyse(name, work)
        scenarios[name] = scen
        errors += errs
    truth = {
        "format": "rstscope-scenario-truth/1",
        "generator": "sudo bash scripts/scenarios/make-scenarios.sh",
        "topology": {
            "client": {"ip": CLIENT_IP, "mac": MAC["client"], "interface": "c0",
                       "namespace": "rsc-cli"},
            "router": {"ip_client_side": "10.77.1.1", "mac_client_side": MAC["router_client_side"],
                       "ip_server_side": "10.77.2.1", "mac_server_side": MAC["router_server_side"],
                       "namespace": "rsc-rtr"},
            "server": {"ip": SERVER_IP, "mac": MAC["server"], "interface": "s0",
                       "namespace": "rsc-srv"},
            "initial_ttl": INITIAL_TTL,
            "capture_points": {"client": "tcpdump on c0 (client namespace)",
                               "server": "tcpdump on s0 (server namespace)"},
            "ttl_rule": "a genuine packet has TTL 64 at its sender's own capture point and 63 "
                        "at the other one; a packet forged by the router has 64 at either",
        },
        "cause_ids": CAUSES,
        "outcomes": OUTCOMES,
        "rst_effects": EFFECTS,
        "senders": {"client": "the client's TCP stack", "server": "the server's TCP stack",
                    "middlebox": "the router, forging the address of an endpoint"},
        "scenarios": {n: scenarios[n] for n in ORDER if n in scenarios},
    }
    for name in names:
        s = scenarios[name]
        for pt in BOTH:
            cap = s["captures"][pt]
            rs = ", ".join(f"#{r['frame']} {r['sender']}/{r['primary_cause']} ttl={r['ttl']}"
                           for r in cap["rsts"]) or "no RST"
            print(f"{name:24s} {pt:6s} {cap['bytes']:7d} B {cap['packets']:4d} pkts  {rs}")
    if not errors:
        with open(truth_path, "w") as f:
            json.dump(truth, f, indent=2)
            f.write("\n")
    if errors:
        print("\nVERIFICATION FAILED:", file=sys.stderr)
        for e in errors:
            print("  " + e, file=sys.stderr)
        sys.exit(1)
    print("truth.json verified")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Client and server endpoints for the rstscope capture scenarios.

Run inside the network namespaces that make-scenarios.sh creates:

    endpoints.py server <scenario> <workdir>
    endpoints.py client <scenario> <workdir>
    endpoints.py txcsum-off <iface>...

Every endpoint appends what its application saw (connected, got a response, ECONNRESET, ...)
to <workdir>/<scenario>.events.jsonl, so that truth.json can record what really happened.
Synchronisation with the harness is by small files in <workdir> (see wait_for / touch).

Standard library only.
"""

import ctypes
import errno
import fcntl
import json
import os
import select
import signal
import socket
import struct
import sys
import threading
import time

CLIENT_IP = "10.77.1.2"
SERVER_IP = "10.77.2.2"
PORT = 8080

_log_lock = threading.Lock()


class Ctx:
    def __init__(self, role, scenario, workdir):
        self.role = role
        self.scenario = scenario
        self.workdir = workdir
        self.log_path = os.path.join(workdir, f"{scenario}.events.jsonl")

    def log(self, event, port=None, **kw):
        rec = {"role": self.role, "ts": round(time.time(), 6), "event": event}
        if port is not None:
            rec["client_port"] = port
        rec.update(kw)
        with _log_lock, open(self.log_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def path(self, name):
        return os.path.join(self.workdir, f"{self.scenario}.{name}")

    def touch(self, name):
        with open(self.path(name), "w"):
            pass

    def wait_for(self, name, timeout=30.0):
        end = time.monotonic() + timeout
        while not os.path.exists(self.path(name)):
            if time.monotonic() > end:
                raise TimeoutError(f"waited too long for {name}")
            time.sleep(0.02)

    def exists(self, name):
        return os.path.exists(self.path(name))


def err_name(e):
    if isinstance(e, OSError) and e.errno:
        return errno.errorcode.get(e.errno, str(e.errno))
    return type(e).__name__


def linger0(sock):
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))


# ---------------------------------------------------------------- HTTP-ish helpers

def request(path, host="server", extra=b""):
    head = f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: rstscope-scenario\r\n"
    if extra:
        head = f"POST {path} HTTP/1.1\r\nHost: {host}\r\nContent-Length: {len(extra)}\r\n"
    return (head + "\r\n").encode() + extra


def response(body, status="200 OK", close=False):
    if isinstance(body, str):
        body = body.encode()
    conn = "close" if close else "keep-alive"
    head = f"HTTP/1.1 {status}\r\nContent-Length: {len(body)}\r\nConnection: {conn}\r\n\r\n"
    return head.encode() + body


def read_message(sock, buf=b""):
    """Read one request/response (headers + Content-Length body). Returns (msg, rest);
    msg is b"" on EOF before anything arrived."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            return b"", b""
        buf += chunk
    head, _, rest = buf.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        k, _, v = line.partition(b":")
        if k.strip().lower() == b"content-length":
            length = int(v.strip())
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    return head + b"\r\n\r\n" + rest[:length], rest[length:]


def first_line(msg):
    return msg.split(b"\r\n", 1)[0].decode(errors="replace")


def connect(ctx, port, dport=PORT, timeout=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((CLIENT_IP, port))
    if timeout is not None:
        s.settimeout(timeout)
    s.connect((SERVER_IP, dport))
    s.settimeout(None)
    ctx.log("connected", port)
    return s


def exchange(ctx, s, port, path, **kw):
    """Send one request and read its response, logging what happened. Returns True if OK."""
    try:
        s.sendall(request(path, **kw))
        msg, _ = read_message(s)
        if msg:
            ctx.log("response", port, path=path, status=first_line(msg), bytes=len(msg))
            return True
        ctx.log("eof", port, path=path)
    except OSError as e:
        ctx.log("error", port, path=path, error=err_name(e))
    return False


def listener(rcvbuf=None, port=PORT):
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    ls.bind((SERVER_IP, port))
    ls.listen(64)
    return ls


def serve(ctx, handler, rcvbuf=None):
    """Accept forever, one thread per connection; handler(ctx, conn, client_port)."""
    ls = listener(rcvbuf)
    ctx.touch("server-ready")
    while True:
        conn, addr = ls.accept()
        ctx.log("accepted", addr[1])

        def run(c=conn, p=addr[1]):
            try:
                handler(ctx, c, p)
            except OSError as e:
                ctx.log("error", p, error=err_name(e))
            finally:
                try:
                    c.close()
                except OSError:
                    pass

        threading.Thread(target=run, daemon=True).start()


def keepalive_handler(idle_timeout=None, bodies=None):
    """A keep-alive HTTP-ish server: answers each request; closes (FIN) after idle_timeout
    seconds without a request, or when the client closes."""

    def handler(ctx, c, port):
        rest = b""
        while True:
            if not rest:
                r, _, _ = select.select([c], [], [], idle_timeout)
                if not r:
                    ctx.log("idle-close", port, idle_timeout=idle_timeout)
                    c.close()
                    return
            msg, rest = read_message(c, rest)
            if not msg:
                ctx.log("eof", port)
                return
            path = first_line(msg).split(" ")[1]
            body = (bodies or {}).get(path, f"content of {path}\n")
            c.sendall(response(body))
            ctx.log("served", port, path=path)

    return handler


# ---------------------------------------------------------------- scenarios: servers

def server_abortive_close(ctx, c, port):
    first = c.recv(64)  # just the request line
    if b"/abort" in first:
        buf = first
        while b"\r\n\r\n" not in buf:  # drain the (small) request: nothing left unread
            buf += c.recv(4096)
        c.sendall(response("an answer, then the server aborts\n"))
        time.sleep(0.2)
        linger0(c)
        ctx.log("close-linger0", port)
    else:
        # POST /upload: we read only 64 bytes, reject, and close with the body unread.
        time.sleep(0.2)  # let the whole body arrive in the receive buffer
        c.sendall(response("upload too large\n", status="413 Payload Too Large", close=True))
        ctx.log("close-unread", port)


def server_mass_reset(ctx, c, port):
    msg, _ = read_message(c)
    c.sendall(response("hello\n"))
    ctx.log("served", port, path=first_line(msg).split(" ")[1])
    # From here on the server never reads this connection again ("busy").
    time.sleep(3600)


def server_retransmission_timeout(ctx, c, port):
    msg, _ = read_message(c)
    c.sendall(response("first answer\n"))
    ctx.log("served", port)
    ctx.wait_for("healed", timeout=60)
    c.sendall(b"PUSH server-heartbeat\r\n\r\n")
    ctx.log("sent-heartbeat", port)
    try:
        data = c.recv(100)
        ctx.log("recv-after-heartbeat", port, data=len(data))
        if not data:
            return
        time.sleep(0.5)
        c.recv(100)
    except OSError as e:
        ctx.log("error", port, error=err_name(e))


def server_zero_window(ctx, c, port):
    # Never read: the receive buffer fills, the window closes.
    ctx.log("not-reading", port)
    try:
        while True:
            time.sleep(0.2)
            # detect the reset without reading data: poll for error via SO_ERROR
            e = c.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            if e:
                ctx.log("error", port, error=errno.errorcode.get(e, str(e)))
                return
    except OSError as e:
        ctx.log("error", port, error=err_name(e))


def server_wait_forever(ctx, c, port):
    """Serve requests; never close on idle."""
    keepalive_handler(None)(ctx, c, port)


SERVERS = {
    "abortive_close": lambda ctx: serve(ctx, server_abortive_close),
    "data_after_close": lambda ctx: serve(ctx, keepalive_handler(1.0)),
    "idle_timeout": lambda ctx: serve(ctx, server_wait_forever),
    "middlebox_reject": lambda ctx: serve(ctx, keepalive_handler(None)),
    "middlebox_inject": lambda ctx: serve(ctx, keepalive_handler(None, {
        "/forbidden-topic": "this article is about a forbidden topic\n"})),
    "mass_reset": lambda ctx: serve(ctx, server_mass_reset),
    "retransmission_timeout": lambda ctx: serve(ctx, server_retransmission_timeout),
    "zero_window_stall": lambda ctx: serve(ctx, server_zero_window, rcvbuf=4096),
    "out_of_window": lambda ctx: serve(ctx, keepalive_handler(None)),
    "after_close": lambda ctx: serve(ctx, keepalive_handler(None)),
    "syn_timeout": lambda ctx: serve(ctx, keepalive_handler(None)),
    "random_loss": lambda ctx: serve(ctx, keepalive_handler(None, {
        "/big": bytes((i * 7 + 13) % 26 + 97 for i in range(64 * 1024))})),
    "everyday": lambda ctx: serve(ctx, keepalive_handler(1.0, {
        "/": "<html><body>hello</body></html>\n",
        "/img/logo.png": bytes(range(256)) * 16})),
}


# ---------------------------------------------------------------- scenarios: clients

def client_refused(ctx):
    for port in (40001, 40002):
        try:
            s = connect(ctx, port, dport=9)
            s.close()
        except OSError as e:
            ctx.log("error", port, error=err_name(e))
        time.sleep(0.2)


def client_abortive_close(ctx):
    s = connect(ctx, 40101)
    try:
        exchange(ctx, s, 40101, "/abort")
        data = s.recv(100)
        ctx.log("recv", 40101, bytes=len(data))
    except OSError as e:
        ctx.log("error", 40101, error=err_name(e))
    s.close()
    time.sleep(0.2)
    s = connect(ctx, 40102)
    try:
        s.sendall(request("/upload", extra=b"x" * 3000))
        time.sleep(0.5)
        msg, _ = read_message(s)
        ctx.log("response" if msg else "eof", 40102, status=first_line(msg) if msg else None)
    except OSError as e:
        ctx.log("error", 40102, error=err_name(e))
    s.close()


def client_data_after_close(ctx):
    s = connect(ctx, 40201)
    exchange(ctx, s, 40201, "/first")
    time.sleep(1.3)  # the server closes the idle connection after 1.0 s; we do not notice
    exchange(ctx, s, 40201, "/second")
    s.close()


def client_idle_timeout(ctx):
    s = connect(ctx, 40301)
    exchange(ctx, s, 40301, "/before-idle")
    time.sleep(3.0)  # the router forgets the connection after 2 s
    exchange(ctx, s, 40301, "/after-idle")
    s.close()


def client_middlebox_reject(ctx):
    s = connect(ctx, 40401)
    exchange(ctx, s, 40401, "/index.html")
    time.sleep(0.2)
    exchange(ctx, s, 40401, "/admin/secret")
    s.close()
    time.sleep(0.2)
    s = connect(ctx, 40402)
    exchange(ctx, s, 40402, "/index.html")
    s.close()


def client_middlebox_inject(ctx):
    s = connect(ctx, 40501)
    exchange(ctx, s, 40501, "/news")
    time.sleep(0.2)
    exchange(ctx, s, 40501, "/forbidden-topic")
    time.sleep(0.3)
    exchange(ctx, s, 40501, "/next")
    s.close()


MASS_PORTS = list(range(40601, 40609))


def client_mass_reset(ctx):
    socks = {}
    for p in MASS_PORTS:
        socks[p] = connect(ctx, p)
        exchange(ctx, socks[p], p, f"/item/{p}")
    # Half the connections send a request the (busy) server will never read.
    for p in MASS_PORTS[:4]:
        socks[p].sendall(request(f"/unread/{p}"))
        ctx.log("sent-unread", p)
    time.sleep(0.2)
    ctx.touch("kill-now")
    ctx.wait_for("killed")
    time.sleep(0.3)
    # The other half notice nothing and send their next request after the kill.
    for p in MASS_PORTS[4:]:
        try:
            socks[p].sendall(request(f"/after-kill/{p}"))
            ctx.log("sent-after-kill", p)
        except OSError as e:
            ctx.log("error", p, error=err_name(e))
    time.sleep(0.2)
    for p in MASS_PORTS:
        try:
            data = socks[p].recv(65536)
            ctx.log("recv", p, bytes=len(data))
            if not data:
                ctx.log("eof", p)
            data = socks[p].recv(65536)
            ctx.log("recv", p, bytes=len(data))
        except OSError as e:
            ctx.log("error", p, error=err_name(e))
        socks[p].close()


def client_retransmission_timeout(ctx):
    s = connect(ctx, 40701)
    exchange(ctx, s, 40701, "/first")
    ctx.touch("blackhole-now")
    ctx.wait_for("blackholed")
    t = time.monotonic()
    try:
        s.sendall(request("/second"))
        data = s.recv(1000)
        ctx.log("recv", 40701, bytes=len(data))
    except OSError as e:
        ctx.log("error", 40701, error=err_name(e), after_s=round(time.monotonic() - t, 2))
    s.close()
    ctx.touch("client-gave-up")


def client_zero_window(ctx):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    s.bind((CLIENT_IP, 40801))
    s.connect((SERVER_IP, PORT))
    ctx.log("connected", 40801)
    s.setblocking(False)
    total = 0
    data = request("/upload", extra=b"u" * 200000)
    end = time.monotonic() + 0.6
    while time.monotonic() < end and total < len(data):
        try:
            total += s.send(data[total:total + 4096])
        except BlockingIOError:
            time.sleep(0.02)
    ctx.log("stalled", 40801, bytes_accepted_by_kernel=total)
    time.sleep(2.5)  # zero-window probes
    linger0(s)
    s.close()
    ctx.log("close-linger0", 40801)


def client_out_of_window(ctx):
    s = connect(ctx, 40901)
    for i in range(1, 6):
        exchange(ctx, s, 40901, f"/{i}")
        time.sleep(0.2)
    s.close()
    ctx.log("closed", 40901)


def client_after_close(ctx):
    s = connect(ctx, 41001)
    exchange(ctx, s, 41001, "/once")
    s.close()  # the client closes first: the server's side ends CLOSED, ours in TIME_WAIT
    ctx.log("closed", 41001)


def client_syn_timeout(ctx):
    t = time.monotonic()
    try:
        s = connect(ctx, 41101)
        s.close()
    except OSError as e:
        ctx.log("error", 41101, error=err_name(e), after_s=round(time.monotonic() - t, 2))


def client_random_loss(ctx):
    s = connect(ctx, 41201)
    exchange(ctx, s, 41201, "/big")
    s.close()
    ctx.log("closed", 41201)


def client_everyday(ctx):
    a = connect(ctx, 41301)
    for path in ("/", "/style.css", "/app.js"):
        exchange(ctx, a, 41301, path)
    b = connect(ctx, 41302)
    exchange(ctx, b, 41302, "/api/items")
    c = connect(ctx, 41303)
    exchange(ctx, c, 41303, "/img/logo.png")
    a.close()
    ctx.log("closed", 41301)
    c.close()
    ctx.log("closed", 41303)
    # The pooled connection 41302 sits idle; the server closes it after 1.0 s.
    time.sleep(1.2)
    if not exchange(ctx, b, 41302, "/api/items?page=2"):
        b.close()
        d = connect(ctx, 41304)  # retry on a fresh connection
        exchange(ctx, d, 41304, "/api/items?page=2")
        d.close()
        ctx.log("closed", 41304)
    else:
        b.close()


CLIENTS = {k[len("client_"):]: v for k, v in globals().items() if k.startswith("client_")}
CLIENTS["zero_window_stall"] = client_zero_window


# ---------------------------------------------------------------- tx checksum offload off

SIOCETHTOOL = 0x8946
ETHTOOL_STXCSUM = 0x17


def txcsum_off(iface):
    """Like `ethtool -K iface tx off`: the kernel computes checksums in software, so the
    captures hold correct TCP checksums (and no TSO super-packets)."""
    val = ctypes.create_string_buffer(struct.pack("II", ETHTOOL_STXCSUM, 0))
    ifr = struct.pack("16sQ", iface.encode(), ctypes.addressof(val))
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    fcntl.ioctl(s.fileno(), SIOCETHTOOL, ifr)
    s.close()


def main():
    if sys.argv[1] == "txcsum-off":
        for iface in sys.argv[2:]:
            txcsum_off(iface)
        return
    role, scenario, workdir = sys.argv[1:4]
    if role == "client":
        signal.alarm(60)  # a watchdog: no scenario client runs longer than this
    ctx = Ctx(role, scenario, workdir)
    if role == "server":
        SERVERS[scenario](ctx)
    else:
        try:
            CLIENTS[scenario](ctx)
        finally:
            ctx.touch("client-done")


if __name__ == "__main__":
    main()

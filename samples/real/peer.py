#!/usr/bin/env python3
"""Traffic peer for samples/real/record.sh (plain stdlib sockets, Linux only).

Roles
  server  listen, accept N connections in sequence, run --do actions on each
  client  connect N times in sequence (optionally from a fixed source port), run --do actions
  stale   client that records an old-incarnation data segment (AF_PACKET) and re-injects it
          with a raw socket into the next incarnation of the same four-tuple
  relay   L3 relay between two interfaces of the router namespace that delays every IPv4
          packet (used instead of kernel forwarding where a scenario needs latency)

Actions (--do, comma separated, executed in order on each connection):
  send:N            sendall N bytes
  chunks:N:K:DT     K sends of N bytes, DT seconds apart
  recv:N            receive exactly N bytes (stops early on EOF)
  recv_eof          receive until EOF (logs how many old-incarnation 'o' bytes it got)
  fill              read a 16-byte header "FILL<12 digits>" and send that many bytes (stale)
  sleep:S           sleep S seconds
  until:S           sleep until T0+S (T0 = --t0, an absolute time.time() value)
  shut_wr / shut_rdwr   shutdown(SHUT_WR) / shutdown(SHUT_RDWR)
  linger0           SO_LINGER {1, 0}
  close             close() (also done implicitly at the end)
Errors (ECONNRESET, EPIPE, ...) are logged and end the action list; the socket is then closed.
Everything is bounded by timeouts.
"""
import argparse
import errno
import os
import select
import socket
import struct
import sys
import time

LOG_PREFIX = ""


def log(*a):
    print(f"[{LOG_PREFIX} {time.time():.6f}]", *a, file=sys.stderr, flush=True)


def run_actions(sock, actions, t0, timeout):
    sock.settimeout(timeout)
    payload = b"x" * 65536
    for act in actions:
        parts = act.split(":")
        name = parts[0]
        try:
            if name == "send":
                n = int(parts[1])
                sock.sendall((payload * (n // len(payload) + 1))[:n])
                log("sent", n)
            elif name == "chunks":
                n, k, dt = int(parts[1]), int(parts[2]), float(parts[3])
                for i in range(k):
                    if i:
                        time.sleep(dt)
                    sock.sendall(payload[:n])
                    log("sent chunk", i + 1, "of", k, n)
            elif name == "recv":
                n = int(parts[1])
                got = 0
                while got < n:
                    b = sock.recv(min(65536, n - got))
                    if not b:
                        log("EOF after", got)
                        break
                    got += len(b)
                log("received", got)
            elif name == "recv_eof":
                got, old = 0, 0
                while True:
                    b = sock.recv(65536)
                    if not b:
                        break
                    got += len(b)
                    old += b.count(b"o")
                log("received", got, "then EOF", f"({old} bytes of old-incarnation data 'o')" if old else "")
            elif name == "fill":  # stale peer: 16-byte header "FILL%012d" = bytes to send back
                hdr = b""
                while len(hdr) < 16:
                    b = sock.recv(16 - len(hdr))
                    if not b:
                        raise OSError("EOF before filler header")
                    hdr += b
                n = int(hdr[4:])
                if n:
                    sock.sendall(b"m" * n)
                log("filler header asks for", n, "bytes; sent")
            elif name == "sleep":
                time.sleep(float(parts[1]))
            elif name == "until":
                target = t0 + float(parts[1])
                while True:
                    d = target - time.time()
                    if d <= 0:
                        break
                    time.sleep(d - 0.002 if d > 0.003 else 0)  # spin the last ms
                log("reached T0 +", parts[1])
            elif name == "shut_wr":
                sock.shutdown(socket.SHUT_WR)
                log("shutdown(SHUT_WR)")
            elif name == "shut_rdwr":
                sock.shutdown(socket.SHUT_RDWR)
                log("shutdown(SHUT_RDWR)")
            elif name == "linger0":
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                log("SO_LINGER {1,0}")
            elif name == "close":
                sock.close()
                log("close()")
                return
            else:
                raise SystemExit(f"unknown action {act}")
        except (OSError, socket.timeout) as e:
            log("action", act, "failed:", repr(e))
            break
    sock.close()
    log("close() (end of actions)")


def family_of(addr):
    return socket.AF_INET6 if ":" in addr else socket.AF_INET


def apply_opts(s, a):
    if a.rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    if a.keepalive:
        idle, intvl, cnt = (int(x) for x in a.keepalive.split(","))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, idle)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, intvl)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, cnt)


def server(a):
    fam = family_of(a.addr)
    ls = socket.socket(fam, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if a.rcvbuf:
        ls.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, a.rcvbuf)
    ls.bind((a.addr, a.port))
    ls.listen(16)
    ls.settimeout(a.timeout)
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write("ready\n")
    log("listening on", a.addr, a.port)
    actions = [x for x in a.do.split(",") if x]
    actions2 = [x for x in (a.do2 or a.do).split(",") if x]
    for i in range(a.count):
        try:
            c, peer = ls.accept()
        except socket.timeout:
            log("accept timed out")
            break
        log("accepted", i + 1, peer)
        apply_opts(c, a)
        run_actions(c, actions if i == 0 else actions2, a.t0, a.timeout)
    ls.close()


def connect_from(a, fam):
    """Connect, retrying (bounded) while the fixed source port/four-tuple is still busy."""
    deadline = time.time() + a.retry_for
    while True:
        s = socket.socket(fam, socket.SOCK_STREAM)
        if a.reuseaddr:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        apply_opts(s, a)
        s.settimeout(a.timeout)
        try:
            if a.sport:
                s.bind((a.src or "", a.sport))
            s.connect((a.addr, a.port))
            return s
        except OSError as e:
            s.close()
            if e.errno in (errno.EADDRNOTAVAIL, errno.EADDRINUSE) and time.time() < deadline:
                log("connect from port", a.sport, "failed:", e.strerror, "- retrying")
                time.sleep(0.1)
                continue
            raise


def client(a):
    fam = family_of(a.addr)
    actions = [x for x in a.do.split(",") if x]
    for i in range(a.count):
        if i and a.gap:
            time.sleep(a.gap)
        try:
            s = connect_from(a, fam)
        except OSError as e:
            if a.stop_on_eaddrnotavail and e.errno == errno.EADDRNOTAVAIL:
                log("connect", i + 1, "failed with EADDRNOTAVAIL (Cannot assign requested address)"
                    " after", i, "connections: the port range is used up")
                return
            log("connect failed:", repr(e))
            sys.exit(1)
        log("connected", i + 1, s.getsockname(), "->", s.getpeername())
        run_actions(s, actions, a.t0, a.timeout)


# ---------------------------------------------------------------- stale segment replayer
ETH_P_IP = 0x0800
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4


def tcp_fields(pkt):
    """(sport, dport, seq, ack, flags, payload_len) of an IPv4/TCP packet, or None."""
    if len(pkt) < 40 or pkt[0] >> 4 != 4 or pkt[9] != 6:
        return None
    ihl = (pkt[0] & 15) * 4
    tot = struct.unpack("!H", pkt[2:4])[0]
    t = pkt[ihl:]
    sport, dport, seq, ack = struct.unpack("!HHII", t[:12])
    doff = (t[12] >> 4) * 4
    return sport, dport, seq, ack, t[13], tot - ihl - doff


def stale(a):
    """Re-inject an old incarnation's data segment into the next incarnation of the four-tuple.

    Incarnation N: the server sends --old-bytes, the client reads them, then sends --old-bytes
    itself, shutdown(SHUT_WR), reads to EOF and closes (the client is the active closer; run it
    with tcp_max_tw_buckets=0 so no TIME_WAIT blocks the immediate reconnect). All segments on c0
    are captured with AF_PACKET. Incarnation N+1 on the same four-tuple starts at once (Linux ISNs
    advance 1 per 64 ns, so the sequence spaces of N and N+1 overlap). The client keeps a byte
    copy of N's last full-sized data segment (seq S, ack A) and then
      --align both: sends filler so the server's rcv_nxt becomes S, and asks the server (16-byte
                    header) to send filler so the server's snd_una becomes A: the old segment
                    is then acceptable by sequence and ack number (only PAWS can reject it);
      --align seq:  only the client filler: seq S is in window, ack A is older than N+1's ISN.
    The old bytes are sent again unchanged through a raw IPv4 socket."""
    sniff = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_ALL))
    sniff.setsockopt(socket.SOL_SOCKET, 33, 16 << 20)  # SO_RCVBUFFORCE: keep every frame
    sniff.bind((a.ifname, ETH_P_ALL))  # outgoing frames reach only ETH_P_ALL packet sockets
    sniff.setblocking(False)

    def drain():
        segs = []
        while True:
            try:
                pkt, addr = sniff.recvfrom(65535)
            except BlockingIOError:
                return segs
            if addr[1] != ETH_P_IP:
                continue
            f = tcp_fields(pkt)
            if f and {f[0], f[1]} == {a.sport, a.port}:
                segs.append((pkt, f))

    def recv_exact(s, n):
        got = 0
        while got < n:
            b = s.recv(min(65536, n - got))
            if not b:
                raise OSError("EOF")
            got += len(b)

    # incarnation N
    s = connect_from(a, socket.AF_INET)
    s.settimeout(a.timeout)
    log("incarnation N connected", s.getsockname())
    recv_exact(s, a.old_bytes)
    s.sendall(b"o" * a.old_bytes)  # 'o' = old data
    s.shutdown(socket.SHUT_WR)
    while s.recv(65536):
        pass
    s.close()
    segs = drain()
    # incarnation N+1, same four-tuple, as soon as possible
    s = connect_from(a, socket.AF_INET)
    s.settimeout(a.timeout)
    segs += drain()
    syns = [f for p, f in segs if f[4] & 0x12 == 0x02]
    synacks = [f for p, f in segs if f[4] & 0x12 == 0x12]
    data = [(p, f) for p, f in segs if f[0] == a.sport and f[5] > 0]
    if len(syns) < 2 or len(synacks) < 2 or not data:
        log("handshakes/data not captured")
        sys.exit(1)
    isn_c_old, isn_c_new = syns[0][2], syns[-1][2]
    isn_s_old, isn_s_new = synacks[0][2], synacks[-1][2]
    old_pkt, old_f = max(data, key=lambda pf: (pf[1][5], (pf[1][2] - isn_c_old) & 0xFFFFFFFF))
    log(f"kept old segment seq={old_f[2]} ack={old_f[3]} len={old_f[5]}")
    fill_c = (old_f[2] - (isn_c_new + 1)) & 0xFFFFFFFF
    fill_s = (old_f[3] - (isn_s_new + 1)) & 0xFFFFFFFF
    log(f"N+1: client ISN +{(isn_c_new - isn_c_old) & 0xFFFFFFFF}, server ISN "
        f"+{(isn_s_new - isn_s_old) & 0xFFFFFFFF}; fillers needed: client {fill_c}, server {fill_s}")
    ok = 16 <= fill_c < a.max_filler and (a.align == "seq" or fill_s < a.max_filler)
    if not ok:
        log("sequence spaces do not overlap enough; injecting without filler")
        fill_c, fill_s = 0, 0
    if a.align == "seq":
        fill_s = 0
    time.sleep(0.05)  # let TSvals advance (PAWS tolerates 1 tick); alignment depends on ISNs only
    s.sendall(b"FILL%012d" % fill_s + b"n" * max(0, fill_c - 16))  # 'n' = new data
    log("sent client filler", max(16, fill_c), "asked for server filler", fill_s)
    recv_exact(s, fill_s)
    time.sleep(0.05)
    raw = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)
    raw.sendto(old_pkt, (a.addr, 0))
    log("re-injected old segment")
    time.sleep(0.2)
    s.sendall(b"N" * 2000)  # covers the old segment's range: the receiver keeps what it got first
    s.shutdown(socket.SHUT_WR)
    try:
        while s.recv(65536):
            pass
    except OSError as e:
        log("recv:", repr(e))
    s.close()
    with open(a.result_file or os.devnull, "w") as f:
        f.write(f"old_seq={old_f[2]} old_ack={old_f[3]} old_len={old_f[5]} "
                f"isn_c_old={isn_c_old} isn_c_new={isn_c_new} isn_s_old={isn_s_old} "
                f"isn_s_new={isn_s_new} aligned={'yes' if ok else 'no'} fill_c={fill_c} fill_s={fill_s}\n")


# ---------------------------------------------------------------- delaying relay
def csum(b):
    if len(b) % 2:
        b += b"\0"
    s = sum(struct.unpack(f"!{len(b)//2}H", b))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def relay(a):
    """Forward IPv4 packets between two interfaces after --delay seconds (kernel forwarding of
    TCP is blocked by nft while this runs). TTL is decremented like a router would."""
    import heapq
    ends = []
    for spec in a.ends:  # ifname=peer_mac=subnet_prefix
        ifname, mac, prefix = spec.split("=")
        s = socket.socket(socket.AF_PACKET, socket.SOCK_DGRAM, socket.htons(ETH_P_IP))
        s.bind((ifname, ETH_P_IP))
        ends.append((s, ifname, bytes.fromhex(mac.replace(":", "")), prefix))
    if a.ready_file:
        with open(a.ready_file, "w") as f:
            f.write("ready\n")
    q = []
    n = 0
    stop = time.time() + a.timeout
    while time.time() < stop:
        wait = max(0.0, min(0.05, (q[0][0] - time.time()) if q else 0.05))
        r, _, _ = select.select([e[0] for e in ends], [], [], wait)
        for s in r:
            pkt, addr = s.recvfrom(65535)
            if addr[2] == PACKET_OUTGOING or len(pkt) < 20 or pkt[9] != 6:
                continue
            dst = socket.inet_ntoa(pkt[16:20])
            for e in ends:
                if e[0] is not s and dst.startswith(e[3]):
                    ttl = pkt[8] - 1
                    if ttl <= 0:
                        break
                    hdr = bytearray(pkt[:(pkt[0] & 15) * 4])
                    hdr[8] = ttl
                    hdr[10:12] = b"\0\0"
                    hdr[10:12] = struct.pack("!H", csum(bytes(hdr)))
                    n += 1
                    heapq.heappush(q, (time.time() + a.delay, n, bytes(hdr) + pkt[len(hdr):], e))
                    break
        now = time.time()
        while q and q[0][0] <= now:
            _, _, pkt, e = heapq.heappop(q)
            e[0].sendto(pkt, (e[1], ETH_P_IP, 0, 0, e[2]))
    log("relay done, forwarded", n)


def main():
    global LOG_PREFIX
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("role", choices=["server", "client", "stale", "relay"])
    p.add_argument("--addr", help="server address (listen address for server)")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--src", help="client source address")
    p.add_argument("--sport", type=int, default=0, help="fixed client source port")
    p.add_argument("--reuseaddr", action="store_true", help="SO_REUSEADDR on the client socket")
    p.add_argument("--count", type=int, default=1, help="connections in sequence")
    p.add_argument("--gap", type=float, default=0.0, help="seconds between client connections")
    p.add_argument("--do", default="", help="actions, see above")
    p.add_argument("--do2", help="server: actions for the 2nd and later connections (default --do)")
    p.add_argument("--t0", type=float, default=0.0, help="absolute time base for until:S")
    p.add_argument("--rcvbuf", type=int, default=0)
    p.add_argument("--keepalive", help="IDLE,INTVL,CNT seconds/probes (SO_KEEPALIVE)")
    p.add_argument("--retry-for", type=float, default=5.0, help="bounded connect retry on EADDRINUSE/EADDRNOTAVAIL")
    p.add_argument("--stop-on-eaddrnotavail", action="store_true",
                   help="client: end the loop (exit 0) when connect() fails with EADDRNOTAVAIL")
    p.add_argument("--timeout", type=float, default=10.0)
    p.add_argument("--ready-file")
    p.add_argument("--ifname", help="stale: client interface to sniff")
    p.add_argument("--old-bytes", type=int, default=30000)
    p.add_argument("--max-filler", type=int, default=200000)
    p.add_argument("--align", choices=["both", "seq"], default="both")
    p.add_argument("--result-file")
    p.add_argument("--ends", nargs=2, help="relay: ifname=peer_mac=dst_prefix, twice")
    p.add_argument("--delay", type=float, default=0.02)
    a = p.parse_args()
    LOG_PREFIX = a.role
    {"server": server, "client": client, "stale": stale, "relay": relay}[a.role](a)


if __name__ == "__main__":
    main()

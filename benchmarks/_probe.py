"""Traffic ends run inside the testbed's namespaces (see _testbed.py); each prints JSON.

    _probe.py udp-send DST probe COUNT INTERVAL SIZE   timestamped probes
    _probe.py udp-send DST rate PPS SECONDS SIZE       a constant packet rate
    _probe.py udp-recv probe IDLE | rate SECONDS | count SECONDS
    _probe.py tcp-sink PORT                            one line per transfer, until stopped
    _probe.py tcp-send DST PORT PAYLOAD MIN MAX BUDGET GAP
                        fresh connection per transfer: at least MIN transfers, then more
                        while under BUDGET seconds, at most MAX

Times are CLOCK_MONOTONIC (shared by the namespaces) except the UDP probes, which compare
the sender's CLOCK_REALTIME with the kernel's receive timestamp (SO_TIMESTAMPNS).
"""

from __future__ import annotations

import json
import socket
import statistics
import struct
import sys
import time

UDP_PORT = 5201
SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35)
#: (name, byte offset, struct code) of the struct tcp_info fields kept.
TCP_INFO_FIELDS = (
    ("ca_state", 1, "B"),
    ("rto_us", 8, "I"),
    ("snd_mss", 16, "I"),
    ("rtt_us", 68, "I"),
    ("snd_ssthresh", 76, "I"),
    ("snd_cwnd", 80, "I"),
    ("total_retrans", 100, "I"),
    ("segs_out", 136, "I"),
    ("data_segs_out", 156, "I"),
    ("bytes_retrans", 208, "Q"),
    ("dsack_dups", 216, "I"),
    ("total_rto", 240, "H"),
    ("total_rto_recoveries", 242, "H"),
)


def tcp_info(sock: socket.socket) -> dict:
    raw = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 256)
    out = {}
    for name, offset, code in TCP_INFO_FIELDS:
        size = struct.calcsize(code)
        if offset + size <= len(raw):
            out[name] = struct.unpack_from(code, raw, offset)[0]
    return out


def udp_send(dst: str, mode: str, a: str, b: str, size: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    size = int(size)
    sent = 0
    if mode == "probe":
        count, interval = int(a), float(b)
        start = time.monotonic()
        for i in range(count):
            target = start + i * interval
            while time.monotonic() < target:
                pass
            body = struct.pack("!qq", i, time.clock_gettime_ns(time.CLOCK_REALTIME))
            sock.sendto(body.ljust(size, b"\0"), (dst, UDP_PORT))
            sent += 1
    else:
        pps, seconds = float(a), float(b)
        body = b"\0" * size
        start = time.monotonic()
        while True:
            now = time.monotonic()
            if now - start >= seconds:
                break
            due = int((now - start) * pps) + 1
            while sent < due:
                sock.sendto(body, (dst, UDP_PORT))
                sent += 1
            time.sleep(0.0005)
    print(json.dumps({"packets": sent}))


def udp_recv(mode: str, arg: str) -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 24)
    sock.bind(("0.0.0.0", UDP_PORT))
    limit = float(arg)
    sock.settimeout(limit if mode == "probe" else 0.5)
    packets, nbytes, first, last, one_way = 0, 0, None, None, []
    start = time.monotonic()
    while True:
        if mode != "probe" and time.monotonic() - start > limit:
            break
        try:
            data, anc, _, _ = sock.recvmsg(4096, 64)
        except TimeoutError:
            if mode == "probe" and packets:
                break
            continue
        stamp = None
        for level, kind, value in anc:
            if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS:
                sec, nsec = struct.unpack("qq", value[:16])
                stamp = sec * 1_000_000_000 + nsec
        packets += 1
        nbytes += len(data)
        first = stamp if first is None else first
        last = stamp
        if mode == "probe":
            one_way.append((stamp - struct.unpack("!qq", data[:16])[1]) / 1e9)
    out = {"packets": packets, "bytes": nbytes}
    if first is not None and last is not None:
        out["span_s"] = (last - first) / 1e9
    if one_way:
        out["one_way_s"] = statistics.median(one_way)
        out["one_way_p5_s"] = statistics.quantiles(one_way, n=20)[0]
    print(json.dumps(out))


def tcp_sink(port: str) -> None:
    """Accept transfers, each in its own thread: a connection still waiting for its
    peer's FIN (lost, so retransmitted after an RTO) must not delay reading the next."""
    import threading

    server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    server.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    server.bind(("0.0.0.0", int(port)))
    server.listen(16)
    lock = threading.Lock()

    def receive(conn: socket.socket, t_accept: int) -> None:
        buf = bytearray(1 << 20)
        view = memoryview(buf)
        header = b""
        while len(header) < 16:
            n = conn.recv_into(view, 16 - len(header))
            if not n:
                return
            header += bytes(view[:n])
        rep, size = struct.unpack("!qq", header)
        got = len(header)
        while got < size:
            n = conn.recv_into(view)
            if not n:
                break
            got += n
        t_last = time.monotonic_ns()
        conn.sendall(b"k")
        with lock:
            print(json.dumps({"rep": rep, "bytes": got, "t_accept_ns": t_accept,
                              "t_last_ns": t_last}), flush=True)  # fmt: skip
        conn.recv(1)  # the sender's close
        conn.close()

    while True:
        conn, _ = server.accept()
        threading.Thread(target=receive, args=(conn, time.monotonic_ns()), daemon=True).start()


def tcp_send(
    dst: str, port: str, payload: str, least: str, most: str, budget: str, gap: str
) -> None:
    size = int(payload)
    body = bytearray(size)
    start = time.monotonic()
    for rep in range(int(most)):
        if rep >= int(least) and time.monotonic() - start > float(budget):
            break
        body[:16] = struct.pack("!qq", rep, size)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
        t0 = time.monotonic_ns()
        sock.connect((dst, int(port)))
        t_conn = time.monotonic_ns()
        sock.sendall(body)
        sock.recv(1)
        t_ack = time.monotonic_ns()
        info = tcp_info(sock)
        info["congestion"] = sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, 16)
        info["congestion"] = info["congestion"].rstrip(b"\0").decode()
        sock.close()
        print(json.dumps({"rep": rep, "t0_ns": t0, "t_connected_ns": t_conn,
                          "t_app_ack_ns": t_ack, **info}), flush=True)  # fmt: skip
        time.sleep(float(gap))


if __name__ == "__main__":
    command, *args = sys.argv[1:]
    {"udp-send": udp_send, "udp-recv": udp_recv, "tcp-sink": tcp_sink, "tcp-send": tcp_send}[
        command
    ](*args)

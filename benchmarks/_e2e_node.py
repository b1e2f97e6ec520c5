"""One end of the split-inference testbed, run by e2e_vs_real.py inside a network namespace.

    _e2e_node.py server --model M --split S --port P [--workers 1] [--threads 1]
    _e2e_node.py device --model M --split S --server ADDR --port P --fps F --frames N
                 --connection persistent|per-frame --device D --phase SECONDS [--threads 1]

Both build the head or the tail exactly as ``sei profile`` does (``ModelGraph``), print
``ready``, read ``start T0`` (CLOCK_MONOTONIC seconds, shared by the namespaces) from
stdin, run, and print one JSON object of per-frame timestamps: the device after its last
result, the server when it reads ``stop``.

The device generates frame k at T0 + phase + k / fps, runs the head in its main thread
when it is free, encodes the split tensor as sei counts it (fp32, 4 bytes per element,
``tensor.numpy().tobytes()``), and hands it to a sender thread: over one persistent TCP
connection (opened at T0) frames go one after another; per-frame, each frame opens its
own connection. A 16-byte header (device, frame, length) precedes the payload. The server
reads each frame in a thread per connection, queues it for its worker(s) (FIFO across
devices), decodes it, runs the tail and replies with 64 bytes (sei's result size). CUBIC
is set on every socket, and TCP_NODELAY (the sender writes whole frames).
"""

from __future__ import annotations

import argparse
import json
import os
import queue
import socket
import struct
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from benchmarks._probe import tcp_info  # noqa: E402
from splitetimpera.models.graph import ModelGraph  # noqa: E402
from splitetimpera.models.zoo import load_model  # noqa: E402

HEADER = struct.Struct("!IIQ")
RESULT = 64


def now() -> float:
    return time.monotonic()


def recv_exact(sock: socket.socket, n: int, into: bytearray | None = None) -> bytearray | None:
    buf = into if into is not None else bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:n])
        if not k:
            return None
        got += k
    return buf


def tcp_socket() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_CONGESTION, b"cubic")
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def build(model: str, split: str, part: str, threads: int):
    torch.set_num_threads(threads)
    torch.set_num_interop_threads(1)
    loaded = load_model(model)
    graph = ModelGraph(loaded.module, loaded.input_shape)
    x = torch.randn(1, *loaded.input_shape, generator=torch.Generator().manual_seed(0))
    head = graph.head(split).eval()
    with torch.inference_mode():
        crossing = head(x)
    if not isinstance(crossing, torch.Tensor):
        raise SystemExit(
            f"{model}@{split}: more than one tensor crosses; pick a single-tensor split"
        )
    module = head if part == "head" else graph.tail(split).eval()
    return module, x, tuple(crossing.shape)


def wait_start() -> float:
    print("ready", flush=True)
    line = sys.stdin.readline().split()
    if not line or line[0] != "start":
        raise SystemExit("expected 'start T0' on stdin")
    return float(line[1])


# ------------------------------------------------------------------------ server


def server(args) -> None:
    tail, _, shape = build(args.model, args.split, "tail", args.threads)
    listener = tcp_socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("0.0.0.0", args.port))
    listener.listen(64)
    work: queue.SimpleQueue = queue.SimpleQueue()
    records: list[dict] = []
    conns: list[socket.socket] = []
    lock = threading.Lock()

    def reader(conn: socket.socket) -> None:
        while True:
            head = recv_exact(conn, HEADER.size)
            if head is None:
                return
            t_header = now()
            device, frame, length = HEADER.unpack(head)
            payload = recv_exact(conn, length)
            if payload is None:
                return
            work.put((device, frame, payload, conn, t_header, now()))

    def accept() -> None:
        while True:
            conn, _ = listener.accept()
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            with lock:
                conns.append(conn)
            threading.Thread(target=reader, args=(conn,), daemon=True).start()

    def worker() -> None:
        torch.set_num_threads(args.threads)
        with torch.inference_mode():
            while True:
                device, frame, payload, conn, t_header, t_up_end = work.get()
                t_tail_start = now()
                x = torch.frombuffer(payload, dtype=torch.float32).view(shape)
                out = tail(x)
                label = int(out.argmax())
                t_tail_end = now()
                reply = struct.pack("!IIi", device, frame, label).ljust(RESULT, b"\0")
                try:
                    conn.sendall(reply)
                except OSError:
                    pass
                records.append({"device": device, "frame": frame, "t_header": t_header,
                                "t_up_end": t_up_end, "t_tail_start": t_tail_start,
                                "t_tail_end": t_tail_end, "t_reply": now()})  # fmt: skip

    threading.Thread(target=accept, daemon=True).start()
    for _ in range(args.workers):
        threading.Thread(target=worker, daemon=True).start()
    wait_start()
    for line in sys.stdin:
        if line.strip() == "stop":
            break
    print(json.dumps({"records": records}), flush=True)
    os._exit(0)


# ------------------------------------------------------------------------ device


def device(args) -> None:
    head, x, _ = build(args.model, args.split, "head", args.threads)
    t0 = wait_start()
    start = t0 + args.phase
    records = [{"device": args.device, "frame": k, "t_gen": start + k / args.fps}
               for k in range(args.frames)]  # fmt: skip
    outbox: queue.SimpleQueue = queue.SimpleQueue()
    done = threading.Event()
    remaining = [args.frames]
    infos: list[dict] = []
    lock = threading.Lock()

    def finished(frame: int) -> None:
        records[frame]["t_done"] = now()
        with lock:
            remaining[0] -= 1
            if remaining[0] == 0:
                done.set()

    def receive(sock: socket.socket, count: int | None) -> None:
        got = 0
        while count is None or got < count:
            reply = recv_exact(sock, RESULT)
            if reply is None:
                return
            _, frame, _ = struct.unpack("!IIi", reply[:12])
            finished(frame)
            got += 1

    def persistent_sender() -> None:
        delay = t0 - now()
        if delay > 0:
            time.sleep(delay)
        sock = tcp_socket()
        sock.connect((args.server, args.port))
        threading.Thread(target=receive, args=(sock, None), daemon=True).start()
        while (item := outbox.get()) is not None:
            frame, data = item
            records[frame]["t_send"] = now()
            sock.sendall(data)
        done.wait(60)
        infos.append(tcp_info(sock))
        sock.close()

    def one_frame(frame: int, data: bytes) -> None:
        records[frame]["t_send"] = now()
        sock = tcp_socket()
        sock.connect((args.server, args.port))
        sock.sendall(data)
        receive(sock, 1)
        with lock:
            infos.append(tcp_info(sock))
        sock.close()

    def per_frame_sender() -> None:
        while (item := outbox.get()) is not None:
            threading.Thread(target=one_frame, args=item, daemon=True).start()

    sender = threading.Thread(
        target=persistent_sender if args.connection == "persistent" else per_frame_sender
    )
    sender.start()
    with torch.inference_mode():
        for record in records:
            wait = record["t_gen"] - now()
            if wait > 0:
                time.sleep(wait)
            record["t_head_start"] = now()
            out = head(x)
            payload = out.contiguous().numpy().tobytes()
            record["t_head_end"] = now()
            header = HEADER.pack(args.device, record["frame"], len(payload))
            outbox.put((record["frame"], header + payload))
    outbox.put(None)
    done.wait(120)
    sender.join(60)
    retrans = sum(i.get("total_retrans", 0) for i in infos)
    print(json.dumps({"records": records, "retransmissions": retrans,
                      "payload_bytes": int(np.prod(_shape(out))) * 4}), flush=True)  # fmt: skip
    os._exit(0)


def _shape(t: torch.Tensor) -> tuple[int, ...]:
    return tuple(t.shape)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("role", choices=["server", "device"])
    parser.add_argument("--model", required=True)
    parser.add_argument("--split", required=True)
    parser.add_argument("--port", type=int, default=5401)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--server", default="10.199.0.2")
    parser.add_argument("--fps", type=float, default=10.0)
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--connection", choices=["persistent", "per-frame"], default="persistent")
    parser.add_argument("--device", type=int, default=0)
    parser.add_argument("--phase", type=float, default=0.0)
    args = parser.parse_args()
    (server if args.role == "server" else device)(args)


if __name__ == "__main__":
    main()

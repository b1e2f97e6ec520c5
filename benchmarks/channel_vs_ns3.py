"""sei's channel against ns-3: the same TCP transfers, medians side by side.

Transfers of 10 kB to 4 MB over a point-to-point link of 10 or 100 Mbit/s, 5 or 25 ms
one-way, 0/1/3 % packet loss (each direction), on a fresh connection (handshake included),
measured from the application's start to the last byte at the receiver. Both tools are
set alike: CUBIC, initial window 10, MSS 1460, SACK, no TCP timestamps, an ACK for every
segment, a 200 ms RTO floor, 1 s SYN timeout, a 1000-packet drop-tail queue, 2 bytes of
PPP framing per packet; sei's timers are exact here (ns-3 has no kernel tick). Differences that remain are differences of the TCP implementations (ns-3 has no
RACK or tail loss probe, and its recovery uses PRR).

Needs the optional dependency ``ns3==3.44.post0`` (about 70 MB from PyPI: ``pip install -e '.[ns3]'``).

    python benchmarks/channel_vs_ns3.py [--reps 20]
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._common import machine, write  # noqa: E402
from splitetimpera.sim.channel import LinkParams  # noqa: E402
from splitetimpera.sim.transfer import TransferSetup, measure_transfers  # noqa: E402
from splitetimpera.sim.transport import TransportParams  # noqa: E402

PAYLOADS = (10_000, 100_000, 1_000_000, 4_000_000)
RATES = (10e6, 100e6)
DELAYS = (0.005, 0.025)
LOSSES = (0.0, 0.01, 0.03)

_HELPER = r"""
namespace seibench {
  double done = -1; uint64_t received = 0; uint64_t target = 0;
  void OnRx(ns3::Ptr<const ns3::Packet> p, const ns3::Address&) {
    received += p->GetSize();
    if (done < 0 && received >= target) done = ns3::Simulator::Now().GetSeconds();
  }
  void Watch(ns3::Ptr<ns3::Application> sink, uint64_t bytes) {
    done = -1; received = 0; target = bytes;
    sink->TraceConnectWithoutContext("Rx", ns3::MakeCallback(&OnRx));
  }
}
"""


def ns3_transfer(
    ns, cppyy, payload: int, rate: float, delay: float, loss: float, run: int
) -> float:
    ns.RngSeedManager.SetSeed(1)
    ns.RngSeedManager.SetRun(run + 1)
    ns.Config.SetDefault("ns3::TcpL4Protocol::SocketType", ns.StringValue("ns3::TcpCubic"))
    ns.Config.SetDefault("ns3::TcpSocket::SegmentSize", ns.UintegerValue(1460))
    ns.Config.SetDefault("ns3::TcpSocket::InitialCwnd", ns.UintegerValue(10))
    ns.Config.SetDefault("ns3::TcpSocket::DelAckCount", ns.UintegerValue(1))
    ns.Config.SetDefault("ns3::TcpSocket::SndBufSize", ns.UintegerValue(1 << 24))
    ns.Config.SetDefault("ns3::TcpSocket::RcvBufSize", ns.UintegerValue(1 << 24))
    ns.Config.SetDefault("ns3::TcpSocket::ConnTimeout", ns.TimeValue(ns.Seconds(1.0)))
    ns.Config.SetDefault("ns3::TcpSocketBase::MinRto", ns.TimeValue(ns.MilliSeconds(200)))
    ns.Config.SetDefault("ns3::TcpSocketBase::Sack", ns.BooleanValue(True))
    # 40 B of IP and TCP headers on data segments, as METHODS and sei count them
    ns.Config.SetDefault("ns3::TcpSocketBase::Timestamp", ns.BooleanValue(False))
    nodes = ns.NodeContainer()
    nodes.Create(2)
    p2p = ns.PointToPointHelper()
    p2p.SetDeviceAttribute("DataRate", ns.StringValue(f"{int(rate)}bps"))
    p2p.SetChannelAttribute("Delay", ns.StringValue(f"{delay}s"))
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize", ns.StringValue("1000p"))
    devices = p2p.Install(nodes)
    if loss > 0:
        for i in range(2):
            model = ns.CreateObject[ns.RateErrorModel]()
            model.SetAttribute("ErrorRate", ns.DoubleValue(loss))
            model.SetAttribute("ErrorUnit", ns.StringValue("ERROR_UNIT_PACKET"))
            devices.Get(i).SetAttribute("ReceiveErrorModel", ns.PointerValue(model))
    ns.InternetStackHelper().Install(nodes)
    address = ns.Ipv4AddressHelper()
    address.SetBase(ns.Ipv4Address("10.1.1.0"), ns.Ipv4Mask("255.255.255.0"))
    interfaces = address.Assign(devices)
    sink = ns.PacketSinkHelper(
        "ns3::TcpSocketFactory", ns.InetSocketAddress(ns.Ipv4Address.GetAny(), 9).ConvertTo()
    )
    sink_app = sink.Install(nodes.Get(1))
    sink_app.Start(ns.Seconds(0.0))
    bulk = ns.BulkSendHelper(
        "ns3::TcpSocketFactory", ns.InetSocketAddress(interfaces.GetAddress(1), 9).ConvertTo()
    )
    bulk.SetAttribute("MaxBytes", ns.UintegerValue(payload))
    bulk.SetAttribute("SendSize", ns.UintegerValue(1460))
    sender = bulk.Install(nodes.Get(0))
    sender.Start(ns.Seconds(1.0))
    cppyy.gbl.seibench.Watch(sink_app.Get(0), payload)
    ns.Simulator.Stop(ns.Seconds(400.0))
    ns.Simulator.Run()
    done = float(cppyy.gbl.seibench.done)
    ns.Simulator.Destroy()
    ns.Ipv4AddressGenerator.Reset()
    return done - 1.0 if done >= 0 else float("nan")


def sei_transfers(payload: int, rate: float, delay: float, loss: float, reps: int) -> np.ndarray:
    link = LinkParams(rate=rate / 8, delay=delay, loss=loss, queue_limit=1000, overhead=2)
    transport = TransportParams(
        connection="per-frame", congestion="cubic", timestamps=False, delayed_ack=False,
        timer_tick=0.0,
    )  # fmt: skip
    setup = TransferSetup("tcp", payload, link, link, transport)
    return measure_transfers(setup, reps, seed=1)["duration"].to_numpy(float)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--reps", type=int, default=20, help="transfers per lossy setting (1 when loss-free)"
    )
    args = parser.parse_args()
    try:
        import cppyy
        from ns import ns
    except ImportError:
        sys.exit("channel_vs_ns3 needs ns-3's Python bindings: pip install ns3==3.44.post0")
    cppyy.cppdef(_HELPER)
    rows = []
    wall = {"ns3": 0.0, "sei": 0.0}
    for payload, rate, delay, loss in itertools.product(PAYLOADS, RATES, DELAYS, LOSSES):
        reps = 1 if loss == 0 else args.reps
        t0 = time.perf_counter()
        theirs = np.array(
            [ns3_transfer(ns, cppyy, payload, rate, delay, loss, r) for r in range(reps)]
        )
        wall["ns3"] += time.perf_counter() - t0
        t0 = time.perf_counter()
        ours = sei_transfers(payload, rate, delay, loss, reps)
        wall["sei"] += time.perf_counter() - t0
        a, b = float(np.nanmedian(ours)), float(np.nanmedian(theirs))
        rows.append({"payload": payload, "rate_bps": rate, "delay_s": delay, "loss": loss, "reps": reps,
                     "sei_median_s": a, "ns3_median_s": b, "relative_difference": a / b - 1})  # fmt: skip
        print(f"{payload / 1e3:>6.0f} kB {rate / 1e6:>3.0f} Mbit/s {delay * 1e3:>2.0f} ms {loss:>4.0%}: "
              f"sei {a * 1e3:8.1f} ms  ns-3 {b * 1e3:8.1f} ms  {a / b - 1:+.1%}", flush=True)  # fmt: skip
    diffs = np.array([r["relative_difference"] for r in rows])
    lossless = np.array([r["relative_difference"] for r in rows if r["loss"] == 0])
    summary = {
        "median_abs_relative_difference": float(np.median(np.abs(diffs))),
        "loss_free_max_abs_relative_difference": float(np.max(np.abs(lossless))),
        "lossy_median_abs_relative_difference": float(
            np.median(np.abs(diffs[[r["loss"] > 0 for r in rows]]))
        ),
        "wall_s": wall,
    }
    print(f"median |difference| {summary['median_abs_relative_difference']:.1%}; loss-free worst "
          f"{summary['loss_free_max_abs_relative_difference']:.1%}; wall ns-3 {wall['ns3']:.0f} s, sei {wall['sei']:.0f} s")  # fmt: skip
    write("channel_vs_ns3", {"rows": rows, "summary": summary, "machine": machine()})


if __name__ == "__main__":
    main()

"""The ``sei`` command line: thin typer commands over the library.

Every command that reads user input turns a mistake into one line on stderr and exit
code 2; ``--json`` prints machine-readable output on stdout (progress and messages go to
stderr, so stdout stays parseable).
"""

from __future__ import annotations

import functools
import json
import logging
import math
import os
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer
from rich import box
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from . import __version__
from .errors import SeiError

__all__ = ["app", "main"]

app = typer.Typer(
    name="sei",
    help=(
        "splitetimpera: where to split a DNN between an embedded device and a server, "
        "and what quality of service that split gives on a given network.\n\n"
        "Start with `sei simulate scenarios/wifi.yaml`."
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode="rich",
)

# Output to a file or a pipe gets 120 columns, not rich's 80, so that tables are not wrapped
# (a terminal, or COLUMNS, decides for itself).
_PIPED = not sys.stdout.isatty() and "COLUMNS" not in os.environ
out = Console(soft_wrap=True, width=120 if _PIPED else None)
err = Console(stderr=True, soft_wrap=True)

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handled(func):
    """Turn user errors into one line and exit 2; Ctrl-C into exit 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except SeiError as exc:
            raise _fail(str(exc)) from None
        except KeyboardInterrupt:
            raise _fail("interrupted; finished work is kept", 130) from None

    return wrapper


def _json_default(value):
    if isinstance(value, Path):
        return str(value)
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, (set, tuple)):
        return list(value)
    raise TypeError(f"not serialisable: {type(value).__name__}")


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return _clean(value.item())
    return value


def print_json(obj) -> None:
    typer.echo(json.dumps(_clean(obj), indent=2, default=_json_default))


def records(frame) -> list[dict]:
    """DataFrame rows as JSON-ready dicts (NaN becomes null)."""
    return [_clean(r) for r in frame.to_dict(orient="records")]


def progress_bar(transient: bool = True) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("eta"),
        TimeRemainingColumn(),
        TextColumn("{task.fields[note]}"),
        console=err,
        transient=transient,
        disable=not err.is_terminal and not _force_progress(),
    )


def with_progress(title: str, work, *args, transient: bool = True, **kwargs):
    """Run ``work(*args, progress=..., **kwargs)`` under a progress bar on stderr."""
    with progress_bar(transient) as bar:
        task = bar.add_task(title, total=None, note="")

        def tick(done: int, total: int | None, note: str = "") -> None:
            bar.update(task, completed=done, total=total, note=note)

        return work(*args, progress=tick, **kwargs)


def emit(result, as_json: bool) -> None:
    """A result with ``to_dict`` and ``print``: JSON on stdout, or its own rendering."""
    if as_json:
        print_json(result.to_dict())
    else:
        result.print(out)


def _force_progress() -> bool:
    import os

    return os.environ.get("SEI_PROGRESS") == "1"


def _version(value: bool):
    if value:
        typer.echo(f"sei {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool | None,
        typer.Option(
            "--version", callback=_version, is_eager=True, help="Show the version and exit."
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress details to stderr.")
    ] = False,
):
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )


# --------------------------------------------------------------------------- scenarios


@app.command()
@handled
def validate(
    scenario: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
    json_: JsonOpt = False,
):
    """Check a scenario and show it resolved (every quantity in SI units).

    Exits 2 with one line naming the file and the key when something is wrong.
    """
    from .scenario import load_scenario

    s = load_scenario(scenario)
    if json_:
        print_json(
            {
                "valid": True,
                "source": str(scenario),
                # SI numbers: seconds, bytes, bytes per second, events per second, fractions
                "resolved": s.model_dump(mode="python"),
                # the same as exact unit strings, loadable as a scenario again
                "scenario": s.model_dump(mode="json"),
            }
        )
        return
    from .units import format_fraction, format_rate, format_time

    net = s.network
    loss = (
        format_fraction(net.loss)
        if isinstance(net.loss, float)
        else f"Gilbert-Elliott, mean {format_fraction(net.loss.mean_loss)}"
    )
    table = Table(title=f"{scenario}: valid", show_header=False, title_justify="left")
    table.add_column("section", style="bold")
    table.add_column("resolved")
    table.add_row("name / seed", f"{s.name} / {s.seed}")
    table.add_row(
        "model",
        f"{s.model.name}, weights {s.model.resolved_weights}, input {'x'.join(map(str, s.model.resolved_input))}",
    )
    table.add_row(
        "dataset", f"{s.dataset.name}, classes {s.dataset.classes}, {s.dataset.samples} samples"
    )
    method = s.splits.method if isinstance(s.splits.method, str) else ", ".join(s.splits.method)
    table.add_row(
        "splits", f"{method}, top {s.splits.top_k}, compression {', '.join(s.splits.compression)}"
    )
    scaled = f" (scaled x{s.device.slowdown:g})" if s.device.slowdown != 1 else ""
    table.add_row("device", f"{s.device.count} x {s.device.profile}{scaled}")
    table.add_row("server", f"{s.server.workers} worker(s) on {s.server.profile}")
    table.add_row(
        "network",
        f"{net.protocol} ({net.congestion}), {format_rate(net.uplink_rate)} up, "
        f"{format_rate(net.downlink_rate)} down, {format_time(net.delay)} one-way, "
        f"jitter {format_time(net.jitter)}, loss {loss}, MTU {net.mtu} B, {net.connection}, "
        f"fidelity {net.fidelity}",
    )
    wl = s.workload
    rate = f"{wl.rate:g} fps" if wl.rate else f"trace {wl.trace}"
    deadline = format_time(wl.deadline) if wl.deadline else "none"
    table.add_row(
        "workload", f"{wl.arrival} {rate}, {wl.frames} frames/device, deadline {deadline}"
    )
    q = s.qos
    from .qos import describe_limits

    limits = describe_limits(q)
    table.add_row("qos", f"{'; '.join(limits) or 'no constraints'}; objective {q.objective}")
    table.add_row("modes", ", ".join(s.modes))
    table.add_row("output", str(s.results_dir))
    out.print(table)


class Fidelity(str, Enum):
    packet = "packet"
    fast = "fast"


@app.command()
@handled
def simulate(
    scenario: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
    frames: Annotated[
        int | None, typer.Option(min=1, help="Frames per device (overrides workload.frames).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, help="Seed (overrides the scenario's).")
    ] = None,
    fidelity: Annotated[
        Fidelity | None, typer.Option(help="Network model (overrides network.fidelity).")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Results folder (default: <output>/<name>)."),
    ] = None,
    report: Annotated[bool, typer.Option(help="Write report.html.")] = True,
    json_: JsonOpt = False,
):
    """Simulate every configuration (mode x split x compression) of a scenario.

    Writes frames.parquet, summary.csv, run.json and report.html into the results folder
    and prints the summary with the QoS matcher's choice.
    """
    from .scenario import load_scenario
    from .sim.engine import simulate as run_simulation

    overrides: dict = {}
    if seed is not None:
        overrides["seed"] = seed
    if fidelity is not None:
        overrides["network.fidelity"] = fidelity.value
    s = load_scenario(scenario, overrides)
    result = with_progress("simulating", run_simulation, s, frames=frames)
    folder = result.write(output, report=report)
    from .suggest import suggestion

    hint = suggestion(result) if result.qos.chosen is None else None
    if json_:
        print_json(
            {
                "results_dir": str(folder),
                "qos": result.qos.to_dict(),
                "suggestion": hint,
                "summary": records(result.summary),
                "wall_time_s": result.meta["wall_time_s"],
            }
        )
        return
    _print_summary(result)
    if hint:
        out.print(f"[yellow]What would make it feasible:[/yellow] {hint}")
    out.print(
        f"Results in [bold]{folder}[/bold] (report.html, summary.csv, frames.parquet, run.json)"
    )


def _print_summary(result, limit: int = 15) -> None:
    """The configurations, feasible ones first (best first), then why the others fail."""
    from .units import format_fraction, format_size, format_time

    s = result.scenario
    p = s.qos.percentile
    table = result.summary
    order = pd_order(table)
    shown = order.head(limit)
    t = Table(
        title=f"{s.name}: {len(table)} configurations, {int(table['feasible'].sum())} meet the QoS",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        padding=(0, 1),
        pad_edge=False,
    )
    for col in ("config", "QoS", "acc", "p50", f"p{p:g}", "miss", "bytes/frame"):
        t.add_column(col, no_wrap=col != "config", overflow="fold")
    for _, r in shown.iterrows():
        style = "bold green" if r["chosen"] else ("" if r["feasible"] else "dim")
        t.add_row(
            str(r["config"]),
            "met" if r["feasible"] else "no",
            format_fraction(r["accuracy"], 3),
            format_time(r["latency_p50"], 3),
            format_time(r["latency_qos"], 3),
            format_fraction(r["deadline_miss"], 3),
            format_size(r["bytes_per_frame"], 3),
            style=style,
        )
    out.print(t)
    if len(order) > limit:
        out.print(f"[dim]... and {len(order) - limit} more in summary.csv[/dim]")
    failing = order[~order["feasible"]].head(5)
    if len(failing):
        out.print("Why the closest others fail:")
        for _, r in failing.iterrows():
            out.print(f"  {r['config']}: {r['violations']}")
    scaled = []
    if s.device.slowdown != 1:
        scaled.append(f"device profile {s.device.profile} scaled x{s.device.slowdown:g}")
    if s.server.slowdown != 1:
        scaled.append(f"server profile {s.server.profile} scaled x{s.server.slowdown:g}")
    if scaled:
        out.print(f"[yellow]Note:[/yellow] {'; '.join(scaled)} (measured latencies multiplied).")
    colour = "green" if result.qos.chosen else "red"
    out.print(f"[{colour}]{result.qos.explanation}[/{colour}]")


def pd_order(table):
    """Feasible configurations by the objective's score, then the others by how far they miss."""
    feasible = table[table["feasible"]].sort_values(["score", "config"])
    others = table[~table["feasible"]].sort_values(["excess", "score", "config"])
    return __import__("pandas").concat([feasible, others])


# --------------------------------------------------------------------------- network


class Protocol(str, Enum):
    tcp = "tcp"
    udp = "udp"


class Connection(str, Enum):
    fresh = "fresh"
    persistent = "persistent"


@app.command()
@handled
def channel(
    protocol: Annotated[Protocol, typer.Option(help="Transport protocol.")] = Protocol.tcp,
    bandwidth: Annotated[str, typer.Option(help='Link rate, e.g. "10 Mbit/s".')] = "10 Mbit/s",
    delay: Annotated[str, typer.Option(help='One-way propagation delay, e.g. "25 ms".')] = "25 ms",
    loss: Annotated[str, typer.Option(help='Packet-loss rate, e.g. "1%".')] = "0%",
    payload: Annotated[str, typer.Option(help='Bytes per transfer, e.g. "1 MB".')] = "1 MB",
    connection: Annotated[
        Connection,
        typer.Option(
            help="fresh: handshake and slow start per transfer; persistent: one connection."
        ),
    ] = Connection.fresh,
    reps: Annotated[int, typer.Option(min=1, help="Transfers to simulate.")] = 200,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = 0,
    jitter: Annotated[str, typer.Option(help='Delay jitter, e.g. "2 ms".')] = "0 ms",
    mtu: Annotated[str, typer.Option(help='MTU, e.g. "1500 B".')] = "1500 B",
    congestion: Annotated[
        str, typer.Option(help="TCP congestion control (reno, cubic).")
    ] = "cubic",
    gap: Annotated[
        str,
        typer.Option(
            help='Time between transfer starts on a persistent connection, e.g. "100 ms".'
        ),
    ] = "0 s",
    json_: JsonOpt = False,
):
    """How long does one payload take over one link? The transfer-time distribution.

    Uses the same channel and transport code as the simulator, with one device and
    nothing else on the link. The reverse direction (ACKs) has the same settings.
    """
    from .sim.channel import LinkParams
    from .sim.tcp import CONGESTION_CONTROLS
    from .sim.transfer import TransferSetup, describe, measure_transfers
    from .sim.transport import TransportParams
    from .units import (
        UnitError,
        format_size,
        format_time,
        parse_fraction,
        parse_rate,
        parse_size,
        parse_time,
    )

    def parse(name: str, fn, text: str):
        try:
            return fn(text)
        except UnitError as exc:
            raise SeiError(f"--{name}: {exc}") from None

    rate = parse("bandwidth", parse_rate, bandwidth)
    one_way = parse("delay", parse_time, delay)
    jit = parse("jitter", parse_time, jitter)
    loss_rate = parse("loss", parse_fraction, loss)
    size = parse("payload", parse_size, payload)
    mtu_b = parse("mtu", parse_size, mtu)
    gap_s = parse("gap", parse_time, gap)
    if rate <= 0:
        raise SeiError(f"--bandwidth: must be > 0, got {bandwidth!r}")
    if not 0 <= loss_rate < 1:
        raise SeiError(f"--loss: {loss} is out of range [0%, 100%)")
    if size <= 0:
        raise SeiError(f"--payload: must be > 0 bytes, got {payload!r}")
    if one_way < 0 or jit < 0 or gap_s < 0:
        raise SeiError("--delay, --jitter and --gap must be >= 0")
    if not 68 <= mtu_b <= 65535 or mtu_b <= 40:
        raise SeiError(f"--mtu: {mtu} is out of range [68 B, 65535 B]")
    if congestion not in CONGESTION_CONTROLS:
        raise SeiError(
            f"--congestion: unknown {congestion!r}; known: {', '.join(CONGESTION_CONTROLS)}"
        )
    link = LinkParams(rate=rate, delay=one_way, jitter=jit, mtu=mtu_b, loss=loss_rate)
    setup = TransferSetup(
        protocol=protocol.value,
        payload=size,
        link=link,
        reverse=link,
        transport=TransportParams(
            connection="per-frame" if connection == Connection.fresh else "persistent",
            congestion=congestion,
        ),
        gap=gap_s,
    )
    table = with_progress("transfers", measure_transfers, setup, reps, seed)
    stats = describe(table)
    stats.update(
        {
            "protocol": protocol.value,
            "connection": connection.value,
            "bandwidth_bps": rate * 8,
            "delay_s": one_way,
            "loss": loss_rate,
            "payload_bytes": size,
            "seed": seed,
            "pure_sending_s": size / rate,
        }
    )
    if json_:
        print_json(stats)
        return
    t = Table(
        title=f"{format_size(size)} over {protocol.value.upper()} ({connection.value}), {bandwidth}, {delay} one-way, {loss} loss, {reps} transfers",
        title_justify="left",
    )
    for col in ("median", "p5", "p95", "mean", "lost", "retransmissions/transfer", "pure sending"):
        t.add_column(col)
    t.add_row(
        format_time(stats["median_s"]),
        format_time(stats["p5_s"]),
        format_time(stats["p95_s"]),
        format_time(stats["mean_s"]),
        f"{stats['loss'] * 100:.3g}%",
        f"{stats['retransmissions_mean']:.3g}",
        format_time(stats["pure_sending_s"]),
    )
    out.print(t)


# --------------------------------------------------------------------------- models


def _shape(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    from .scenario import _input_shape

    try:
        return _input_shape(text)
    except ValueError as exc:
        raise SeiError(f"--input: {exc}") from None


@app.command()
@handled
def splits(
    model: Annotated[
        str,
        typer.Argument(help="Model name (e.g. digits_vgg, vgg16, resnet50) or a saved .pt model."),
    ],
    input: Annotated[
        str | None, typer.Option("--input", help="Input shape C x H x W, e.g. 3x224x224.")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help="builtin, none, or a checkpoint path.")
    ] = None,
    verify: Annotated[
        bool,
        typer.Option(
            help="Run head then tail on random input for every split and compare with the model."
        ),
    ] = False,
    single: Annotated[bool, typer.Option(help="Only splits where one tensor crosses.")] = False,
    json_: JsonOpt = False,
):
    """List a model's split points: payload, FLOPs and parameters of head and tail."""
    from .models.graph import split_points
    from .models.zoo import load_model

    loaded = load_model(model, weights=weights, input_shape=_shape(input))
    points = split_points(loaded.module, loaded.input_shape)
    rows = [
        p.as_dict()
        for p in points
        if not single or p.n_tensors == 1 or p.name in ("input", "output")
    ]
    failures = []
    if verify:
        from .models.graph import verify_splits

        diffs = with_progress("verifying", verify_splits, loaded.module, loaded.input_shape)
        for row in rows:
            row["max_abs_diff"] = diffs.get(row["split"])
        failures = [
            r["split"]
            for r in rows
            if r.get("max_abs_diff") is not None and r["max_abs_diff"] > 1e-5
        ]
    if json_:
        print_json(
            {
                "model": loaded.name,
                "input": list(loaded.input_shape),
                "splits": rows,
                "verified": verify,
                "failures": failures,
            }
        )
    else:
        from .units import format_size

        t = Table(
            title=f"{loaded.name} at {'x'.join(map(str, loaded.input_shape))}: {len(rows)} split points",
            title_justify="left",
        )
        cols = [
            "depth",
            "split",
            "tensors",
            "shapes",
            "fp32",
            "int8",
            "head GFLOPs",
            "tail GFLOPs",
            "head params",
        ]
        if verify:
            cols.append("max |diff|")
        for c in cols:
            t.add_column(c, no_wrap=c != "shapes")
        for r in rows:
            cells = [
                str(r["depth"]), r["split"], str(r["n_tensors"]), r["shapes"],
                format_size(r["payload_fp32"]), format_size(r["payload_int8"]),
                f"{r['head_flops'] / 1e9:.3g}", f"{r['tail_flops'] / 1e9:.3g}", f"{r['head_params']:,}",
            ]  # fmt: skip
            if verify:
                d = r.get("max_abs_diff")
                cells.append(
                    "–" if d is None else (f"[red]{d:.2e}[/red]" if d > 1e-5 else f"{d:.1e}")
                )
            t.add_row(*cells)
        out.print(t)
        if verify:
            if failures:
                out.print(
                    f"[red]{len(failures)} split(s) differ by more than 1e-5: {', '.join(failures)}[/red]"
                )
            else:
                out.print(
                    f"[green]All {len(rows)} splits reproduce the model (max |diff| <= 1e-5).[/green]"
                )
    if failures:
        raise typer.Exit(1)


class DeviceKind(str, Enum):
    cpu = "cpu"
    cuda = "cuda"


@app.command()
@handled
def profile(
    model: Annotated[str, typer.Argument(help="Model name or a saved .pt model.")],
    device: Annotated[DeviceKind, typer.Option(help="Where to run.")] = DeviceKind.cpu,
    threads: Annotated[
        int | None,
        typer.Option(min=1, help="CPU threads (torch.set_num_threads); all cores by default."),
    ] = None,
    batch: Annotated[int, typer.Option(min=1, help="Batch size.")] = 1,
    repeats: Annotated[
        int, typer.Option(min=3, help="Timed repetitions of each head and tail.")
    ] = 30,
    warmup: Annotated[int, typer.Option(min=0, help="Untimed repetitions first.")] = 5,
    input: Annotated[str | None, typer.Option("--input", help="Input shape C x H x W.")] = None,
    weights: Annotated[
        str | None, typer.Option(help="builtin, none, or a checkpoint path.")
    ] = None,
    hardware: Annotated[
        str | None,
        typer.Option(
            help="Hardware name (folder under profiles/); derived from the CPU/GPU by default."
        ),
    ] = None,
    out_dir: Annotated[Path, typer.Option("--profiles", help="Profiles folder.")] = Path(
        "profiles"
    ),
    single: Annotated[bool, typer.Option(help="Only splits where one tensor crosses.")] = False,
    json_: JsonOpt = False,
):
    """Measure head and tail latency at every split point; write profiles/<hardware>/<model>.csv."""
    from .models.profile import profile_error, profile_model

    result = with_progress(
        "profiling", profile_model, model, device=device.value, threads=threads, batch=batch,
        repeats=repeats, warmup=warmup, input_shape=_shape(input), weights=weights,
        hardware=hardware, folder=out_dir, single_only=single,
    )  # fmt: skip
    meta = result.meta
    if json_:
        print_json({"path": str(result.path), "meta": meta, "splits": records(result.table)})
        return
    from .units import format_time

    t = Table(
        title=f"{model} on {meta['hardware']} ({meta.get('gpu') or meta.get('cpu')}, {meta['threads']} threads, batch {batch})",
        title_justify="left",
    )
    for c in ("split", "head median", "head p95", "tail median", "tail p95", "head+tail vs full"):
        t.add_column(c)
    full = meta["full_median_s"]
    errors = profile_error(result.table)
    for (_, r), err_ in zip(result.table.iterrows(), errors):
        t.add_row(
            r["split"], format_time(r["head_median_s"]), format_time(r["head_p95_s"]),
            format_time(r["tail_median_s"]), format_time(r["tail_p95_s"]), f"{err_ * 100:+.1f}%",
        )  # fmt: skip
    out.print(t)
    share = meta["within_10pct"]
    colour = "green" if share >= 0.9 else "yellow"
    out.print(
        f"[{colour}]Profile accuracy: head+tail within ±10% of the full model (median {format_time(full)}) "
        f"for {share * 100:.0f}% of splits.[/{colour}] Written {result.path}"
    )


class Dataset(str, Enum):
    digits = "digits"


@app.command()
@handled
def train(
    model: Annotated[
        str, typer.Argument(help="A reference model: digits_vgg, digits_resnet, digits_mobilenet.")
    ],
    dataset: Annotated[Dataset, typer.Option(help="Training data.")] = Dataset.digits,
    epochs: Annotated[
        int | None, typer.Option(min=1, help="Epochs (the model's recorded default otherwise).")
    ] = None,
    seed: Annotated[int, typer.Option(min=0, help="Seed of initialisation and data order.")] = 0,
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Checkpoint path (default: the built-in weights folder)."
        ),
    ] = None,
    json_: JsonOpt = False,
):
    """Train a reference model on the built-in dataset (seeded, reproducible)."""
    from .models.train import train_reference

    record = with_progress(
        f"training {model}", train_reference, model, dataset=dataset.value, epochs=epochs,
        seed=seed, output=output,
    )  # fmt: skip
    if json_:
        print_json(record)
        return
    out.print(
        f"[green]{model}: test accuracy {record['test_accuracy'] * 100:.2f}% "
        f"({record['test_samples']} held-out digits), {record['epochs']} epochs in "
        f"{record['train_seconds']:.1f} s.[/green] Saved {record['checkpoint']}"
    )


# --------------------------------------------------------------------------- interpretability


def _classes(text: str | None):
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise SeiError("--classes: an empty class subset selects no image; name at least one class")
    return [int(p) if p.lstrip("-").isdigit() else p for p in parts]


@app.command()
@handled
def rank(
    scenario: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
    samples: Annotated[
        int | None, typer.Option(help="Images to use (overrides dataset.samples).")
    ] = None,
    classes: Annotated[
        str | None, typer.Option(help="Class subset, e.g. 0,3,7 (overrides dataset.classes).")
    ] = None,
    accuracy: Annotated[
        bool,
        typer.Option(
            help="Also measure accuracy of the top candidates with each configured compression."
        ),
    ] = False,
    top: Annotated[
        int | None,
        typer.Option(
            min=1, help="How many candidates --accuracy measures (default: all candidates)."
        ),
    ] = None,
    json_: JsonOpt = False,
):
    """Rank split points by I-SPLIT's cumulative importance (CUI); write table and plot."""
    from .interpret.rank_command import run_rank

    result = with_progress(
        "ranking", run_rank, scenario, samples=samples, classes=_classes(classes),
        with_accuracy=accuracy, top=top,
    )  # fmt: skip
    emit(result, json_)


class Criterion(str, Enum):
    singe = "singe"
    l1 = "l1"
    taylor = "taylor"
    random = "random"


@app.command()
@handled
def prune(
    scenario: Annotated[
        Path, typer.Argument(help="A scenario YAML file (model, weights, dataset).")
    ],
    split: Annotated[
        str, typer.Option(help="Prune the head at this split, or 'none' for the whole model.")
    ] = ...,
    criterion: Annotated[str, typer.Option(help="singe, l1, taylor or random.")] = "singe",
    target_flops: Annotated[
        float | None, typer.Option(help="Remove this share of the head's FLOPs, in (0, 1).")
    ] = None,
    target_params: Annotated[
        float | None, typer.Option(help="Remove this share of the head's parameters, in (0, 1).")
    ] = None,
    finetune_steps: Annotated[
        int, typer.Option(min=0, help="Fine-tuning steps after each pruning step.")
    ] = 20,
    step: Annotated[
        float, typer.Option(help="Share of the remaining channels removed per pruning step.")
    ] = 0.05,
    steps: Annotated[
        int,
        typer.Option(min=1, help="Integration steps m of the SInGE criterion (cost grows with m)."),
    ] = 4,
    samples: Annotated[
        int, typer.Option(min=1, help="Training images each relevance computation sees.")
    ] = 16,
    seed: Annotated[int, typer.Option(min=0, help="Seed.")] = 0,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Where to save the pruned model (.pt).")
    ] = None,
    profile_hw: Annotated[
        bool,
        typer.Option("--profile/--no-profile", help="Profile the pruned model on this machine."),
    ] = True,
    json_: JsonOpt = False,
):
    """Prune the on-device head with SInGE (or a baseline), fine-tune, save and profile it.

    Entwined: score channels, remove a small share, fine-tune, repeat until the head's
    FLOPs (or parameters) drop by the target. SInGE's exact per-neuron path costs m passes
    of the network after each layer per filter: expect minutes on a CPU.
    """
    from .interpret.prune_command import run_prune

    result = with_progress(
        "pruning", run_prune, scenario, split=split, criterion=criterion,
        target_flops=target_flops, target_params=target_params, finetune_steps=finetune_steps,
        step=step, steps=steps, samples=samples, seed=seed, output=output, profile=profile_hw,
    )  # fmt: skip
    if json_:
        print_json(result)
        return
    out.print(
        f"[green]{result['model']} pruned with {result['criterion']} at {result['split']}: head FLOPs "
        f"{result['head_flops_before'] / 1e6:.3g}M -> {result['head_flops_after'] / 1e6:.3g}M "
        f"({result['flops_reduction'] * 100:.1f}% removed), accuracy {result['accuracy_before'] * 100:.2f}% -> "
        f"{result['accuracy_after'] * 100:.2f}%.[/green]"
    )
    out.print(
        f"Saved {result['path']}"
        + (f"; profile {result['profile']}" if result.get("profile") else "")
    )


# --------------------------------------------------------------------------- studies


class Executor(str, Enum):
    local = "local"
    dask = "dask"


@app.command()
@handled
def sweep(
    scenario: Annotated[Path, typer.Argument(help="A scenario YAML file.")],
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            "-g",
            help='A swept key and its values: network.bandwidth="1 Mbit/s,10 Mbit/s". Repeat for a cross product.',
        ),
    ] = ...,
    executor: Annotated[
        Executor, typer.Option(help="local processes, or dask.distributed.")
    ] = Executor.local,
    workers: Annotated[int, typer.Option(min=1, help="Parallel workers.")] = 1,
    scheduler: Annotated[
        str | None,
        typer.Option(
            help="Address of an existing Dask scheduler (tcp://host:port); a LocalCluster otherwise."
        ),
    ] = None,
    frames: Annotated[
        int | None, typer.Option(min=1, help="Frames per device at every point.")
    ] = None,
    output: Annotated[
        Path | None,
        typer.Option("--output", "-o", help="Sweep folder (default: <output>/<name>-sweep)."),
    ] = None,
    json_: JsonOpt = False,
):
    """Simulate the cross product of the grid; one folder per point, a combined table and a report.

    Resumable: points already done (same resolved scenario, seed and code version) are
    not recomputed, so re-running an interrupted sweep finishes it.
    """
    from .sweep import parse_grid, run_sweep

    axes = parse_grid(grid, scenario)
    result = with_progress(
        "sweep", run_sweep, scenario, axes, transient=False, executor=executor.value,
        workers=workers, scheduler=scheduler, frames=frames, output=output,
    )  # fmt: skip
    emit(result, json_)


@app.command()
@handled
def explore(
    spec: Annotated[
        Path,
        typer.Argument(help="A design-space YAML: a base scenario and alternatives per dimension."),
    ],
    samples: Annotated[
        int | None,
        typer.Option(
            min=1, help="Evaluate a seeded random sample of this many designs instead of all."
        ),
    ] = None,
    executor: Annotated[
        Executor, typer.Option(help="local processes, or dask.distributed.")
    ] = Executor.local,
    workers: Annotated[int, typer.Option(min=1, help="Parallel workers.")] = 1,
    scheduler: Annotated[
        str | None, typer.Option(help="Address of an existing Dask scheduler.")
    ] = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Exploration folder.")
    ] = None,
    json_: JsonOpt = False,
):
    """Design-space exploration: evaluate designs, report the Pareto-optimal ones."""
    from .explore import load_spec, run_explore

    design = load_spec(spec)
    result = with_progress(
        "explore", run_explore, design, transient=False, samples=samples,
        executor=executor.value, workers=workers, scheduler=scheduler, output=output,
    )  # fmt: skip
    emit(result, json_)


@app.command()
@handled
def report(
    results_dir: Annotated[
        Path, typer.Argument(help="A folder written by simulate, sweep or explore.")
    ],
    json_: JsonOpt = False,
):
    """(Re)write the HTML report of a results folder from its files."""
    from .results import atomic_write_text

    if (results_dir / "sweep.json").is_file():
        from .sweep import rewrite_report

        path = rewrite_report(results_dir)
    elif (results_dir / "explore.json").is_file():
        from .explore import rewrite_report as explore_report

        path = explore_report(results_dir)
    else:
        from .report import simulation_report
        from .results import read_result

        result = read_result(results_dir)
        path = results_dir / "report.html"
        atomic_write_text(path, simulation_report(result))
    if json_:
        print_json({"report": str(path)})
    else:
        out.print(f"Wrote {path}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()

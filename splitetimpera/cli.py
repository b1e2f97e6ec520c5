"""The ``sei`` command line: thin typer commands over the library.

Every command that reads user input turns a mistake into one line on stderr and exit
code 2; ``--json`` prints machine-readable output on stdout (progress and messages go to
stderr, so stdout stays parseable). What is shown is rendered by :mod:`.render`.
"""

from __future__ import annotations

import functools
import logging
import sys
from enum import Enum
from pathlib import Path
from typing import Annotated

import typer

from . import __version__
from .errors import Interrupted, SeiError

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

JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON on stdout.")]


# Choices of the options: typer shows and checks them.


def _choice(name: str, *values: str) -> type[Enum]:
    return Enum(name, {value: value for value in values}, type=str)


Fidelity = _choice("Fidelity", "packet", "fast")
Protocol = _choice("Protocol", "tcp", "udp")
Connection = _choice("Connection", "fresh", "persistent")
DeviceKind = _choice("DeviceKind", "cpu", "cuda")
Dataset = _choice("Dataset", "digits")
Executor = _choice("Executor", "local", "dask")

# Arguments and options shared by several commands.
ScenarioArg = Annotated[Path, typer.Argument(help="A scenario YAML file.")]
InputOpt = Annotated[
    str | None, typer.Option("--input", help="Input shape C x H x W, e.g. 3x224x224.")
]
WeightsOpt = Annotated[str | None, typer.Option(help="builtin, none, or a checkpoint path.")]
ExecutorOpt = Annotated[Executor, typer.Option(help="local processes, or dask.distributed.")]
WorkersOpt = Annotated[int, typer.Option(min=1, help="Parallel workers.")]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="Address of an existing Dask scheduler (tcp://host:port); a LocalCluster otherwise."
    ),
]


def _fail(message: str, code: int = 2) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(code)


def handled(func):
    """Turn user errors into one line and exit 2; Ctrl-C into one line and exit 130."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Interrupted as exc:
            raise _fail(str(exc), 130) from None
        except SeiError as exc:
            raise _fail(str(exc)) from None
        except KeyboardInterrupt:
            # commands write their results once, at the end
            raise _fail("interrupted; nothing was written", 130) from None

    return wrapper


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
    scenario: ScenarioArg,
    json_: JsonOpt = False,
):
    """Check a scenario and show it resolved (every quantity in SI units).

    Exits 2 with one line naming the file and the key when something is wrong.
    """
    from .pipeline import load_scenario
    from .render import print_json, show_validated

    s = load_scenario(scenario)
    if json_:
        print_json(
            {
                "valid": True,
                "source": str(scenario),
                "resolved": s.model_dump(mode="python"),
                "resolved_units": (
                    "SI numbers: seconds, bytes, bytes per second (not bits: bandwidth "
                    "5000000.0 is 40 Mbit/s), events per second, fractions (0.01 = 1%)"
                ),
                # the same as exact unit strings, loadable as a scenario again
                "scenario": s.model_dump(mode="json"),
            }
        )
        return
    show_validated(scenario, s)


@app.command()
@handled
def simulate(
    scenario: ScenarioArg,
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
    yes: Annotated[
        bool, typer.Option("--yes", help="Run a long or large run without asking.")
    ] = False,
    json_: JsonOpt = False,
):
    """Simulate every configuration (mode x split x compression) of a scenario.

    Writes frames.parquet, summary.csv, run.json and report.html into the results folder
    and prints the summary with the QoS matcher's choice.
    """
    from .pipeline import advise, guard, headroom, load_scenario
    from .pipeline import simulate as run_simulation
    from .render import err, print_json, show_summary, with_progress
    from .results import FramesWriter, prepare_folder, write_result
    from .store import records

    overrides: dict = {}
    if seed is not None:
        overrides["seed"] = seed
    if fidelity is not None:
        overrides["network.fidelity"] = fidelity.value
    s = load_scenario(scenario, overrides)
    folder = prepare_folder(output or s.results_dir)  # before the work, not after
    large = guard(s, frames, yes)
    if large is not None:
        err.print(f"This run: {large.describe()}.")
    with FramesWriter(folder) as sink:
        result = with_progress("simulating", run_simulation, s, frames=frames, on_frames=sink)
    # what would make it feasible, or how much bandwidth the choice can lose
    result.meta["advice"] = advise(result)
    result.meta["headroom"] = headroom(result)
    write_result(result, folder, report=report, frames=sink)
    if json_:
        print_json(
            {
                "results_dir": str(folder),
                "qos": result.qos.to_dict(),
                "suggestion": result.meta["advice"],
                "headroom": result.meta["headroom"],
                "summary": records(result.summary),
                "wall_time_s": result.meta["wall_time_s"],
            }
        )
        return
    show_summary(result, folder)


# --------------------------------------------------------------------------- network


@app.command()
@handled
def channel(
    protocol: Annotated[Protocol, typer.Option(help="Transport protocol.")] = Protocol.tcp,
    bandwidth: Annotated[
        str,
        typer.Option(
            help='Link rate, e.g. "10 Mbit/s", or a trace, e.g. trace:ATT-LTE-driving-2016.up '
            "(Mahimahi or time,bandwidth CSV; the ACK direction follows it too)."
        ),
    ] = "10 Mbit/s",
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
    from .errors import ScenarioError
    from .pipeline import check_network_names, network_params
    from .render import print_json, show_channel, with_progress
    from .scenario import NetworkSpec, validate_section
    from .scenario.fields import Duration, PositiveSize, Section
    from .sim.transfer import TransferSetup, describe, measure_transfers
    from .units import format_size

    class Transfer(Section):
        payload: PositiveSize
        gap: Duration = 0.0

    options = {
        "protocol": protocol.value,
        "congestion": congestion,
        "bandwidth": bandwidth,
        "delay": delay,
        "jitter": jitter,
        "loss": loss,
        "mtu": mtu,
        "connection": "per-frame" if connection == Connection.fresh else "persistent",
    }
    try:
        net = validate_section(NetworkSpec, options, None)
        transfer = validate_section(Transfer, {"payload": payload, "gap": gap}, None)
        check_network_names(net)
    except ScenarioError as exc:
        # network.congestion is --congestion's, bandwidth.trace --bandwidth's
        option = (exc.key or "").removeprefix("network.").split(".")[0]
        raise SeiError(f"--{option}: {exc.message}") from None
    params = network_params(net)
    # the reverse direction (ACKs) has the same settings as the data direction
    link = params.uplink
    setup = TransferSetup(
        net.protocol, transfer.payload, link, link, params.transport, transfer.gap
    )
    table = with_progress("transfers", measure_transfers, setup, reps, seed)
    stats = describe(table)
    stats.update(
        {
            "protocol": protocol.value,
            "connection": connection.value,
            "bandwidth_bps": net.uplink_rate * 8,
            "delay_s": net.delay,
            "loss_rate": net.loss,
            "payload_bytes": transfer.payload,
            "seed": seed,
            "pure_sending_s": transfer.payload / net.uplink_rate,
        }
    )
    if json_:
        print_json(stats)
        return
    show_channel(
        stats,
        f"{format_size(transfer.payload)} over {protocol.value.upper()} ({connection.value}), "
        f"{bandwidth}, {delay} one-way, {loss} loss, {reps} transfers",
    )


@app.command()
@handled
def codecs(json_: JsonOpt = False):
    """List the codecs a scenario can name in splits.compression, and what each applies to."""
    from .codecs import CODECS
    from .render import print_json, show_codecs

    rows = []
    for name in CODECS:
        codec = CODECS.get(name)()
        p = codec.parameter
        rows.append(
            {
                "name": name,
                "written": f"{name}@{p.name[0].upper()}" if p else name,
                "parameter": f"{p.name} {p.lo}-{p.hi}" if p else "",
                "applies_to": [m for m in ("RC", "SC", "EE") if codec.applies_to(m)],
                "compresses": "the input image" if codec.kind == "image" else "tensors",
                "lossless": codec.lossless,
                "size": "fixed" if codec.nominal_bytes([]) is not None else "measured on real data",
                "summary": codec.summary,
            }
        )
    if json_:
        print_json({"codecs": rows})
        return
    show_codecs(rows)


# --------------------------------------------------------------------------- models


def _shape(text: str | None) -> tuple[int, int, int] | None:
    if text is None:
        return None
    from .scenario import parse_shape

    try:
        return parse_shape(text)
    except ValueError as exc:
        raise SeiError(f"--input: {exc}") from None


@app.command()
@handled
def splits(
    model: Annotated[
        str,
        typer.Argument(help="Model name (e.g. digits_vgg, vgg16, resnet50) or a saved .pt model."),
    ],
    input: InputOpt = None,
    weights: WeightsOpt = None,
    verify: Annotated[
        bool,
        typer.Option(
            help="Check tail(head(x)) == model(x) at every split on random input (exact, one pass)."
        ),
    ] = False,
    single: Annotated[bool, typer.Option(help="Only splits where one tensor crosses.")] = False,
    json_: JsonOpt = False,
):
    """List a model's split points: payload, FLOPs and parameters of head and tail."""
    from .models.graph import ModelGraph, verify_graph
    from .models.zoo import load_model
    from .render import print_json, show_splits, with_progress

    loaded = load_model(model, weights=weights, input_shape=_shape(input))
    graph = ModelGraph(loaded.module, loaded.input_shape)
    rows = [
        p.as_dict()
        for p in graph.points
        if not single or p.n_tensors == 1 or p.name in ("input", "output")
    ]
    failures = []
    if verify:
        diffs = with_progress("verifying", verify_graph, graph)
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
        show_splits(loaded.name, loaded.input_shape, rows, verify, failures)
    if failures:
        raise typer.Exit(1)


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
    input: InputOpt = None,
    weights: WeightsOpt = None,
    hardware: Annotated[
        str | None,
        typer.Option(
            help="Hardware name (folder under profiles/); derived from the CPU/GPU by default."
        ),
    ] = None,
    out_dir: Annotated[
        Path | None,
        typer.Option(
            "--profiles",
            help="Profiles folder (default: your own, ~/.local/share/splitetimpera/profiles).",
        ),
    ] = None,
    single: Annotated[bool, typer.Option(help="Only splits where one tensor crosses.")] = False,
    force: Annotated[
        bool, typer.Option(help="Replace a profile that ships with sei (refused otherwise).")
    ] = False,
    pace: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Seconds idle before each timed run, each run handed to a worker thread and "
            "back, as a device processes one frame per period (0: back to back, warm).",
        ),
    ] = 0.0,
    json_: JsonOpt = False,
):
    """Measure head and tail latency at every split point; write <folder>/<hardware>/<model>.csv.

    Your measurements go to your own profiles folder, which `sei simulate` searches before
    the shipped one (and names when it uses it); shipped profiles are never overwritten
    without --force.
    """
    from .models.profile import profile_error, profile_model
    from .render import print_json, show_profile, with_progress
    from .store import records

    result = with_progress(
        "profiling", profile_model, model, device=device.value, threads=threads, batch=batch,
        repeats=repeats, warmup=warmup, input_shape=_shape(input), weights=weights,
        hardware=hardware, folder=out_dir, single_only=single, force=force, pace=pace,
    )  # fmt: skip
    if json_:
        print_json({"path": str(result.path), "meta": result.meta, "splits": records(result.table)})
        return
    show_profile(model, batch, result, profile_error(result.table))


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
    from .render import print_json, show_trained, with_progress

    record = with_progress(
        f"training {model}", train_reference, model, dataset=dataset.value, epochs=epochs,
        seed=seed, output=output,
    )  # fmt: skip
    if json_:
        print_json(record)
        return
    show_trained(model, record)


# --------------------------------------------------------------------------- interpretability


def _classes(text: str | None):
    if text is None:
        return None
    parts = [p.strip() for p in text.split(",") if p.strip()]
    if not parts:
        raise SeiError("--classes: an empty class subset selects no image; name at least one class")
    return [int(p) if p.lstrip("-").isdigit() else p for p in parts]


def _choices(name: str, *values: str) -> type[Enum]:
    """A string Enum of typer choices whose values hold dashes (``top-k``)."""
    return Enum(name, {v.replace("-", "_"): v for v in values}, type=str)


Layers = _choices("Layers", "all", "reference")
Candidates = _choices("Candidates", "top-k", "local-maxima")


@app.command()
@handled
def rank(
    scenario: ScenarioArg,
    samples: Annotated[
        int | None, typer.Option(help="Images to use (overrides dataset.samples).")
    ] = None,
    classes: Annotated[
        str | None, typer.Option(help="Class subset, e.g. 0,3,7 (overrides dataset.classes).")
    ] = None,
    layers: Annotated[
        Layers | None,
        typer.Option(
            help="Layers scored: all, or the original I-SPLIT code's (overrides splits.layers)."
        ),
    ] = None,
    candidates: Annotated[
        Candidates | None,
        typer.Option(
            help="Candidate rule: top-k, or the original code's local maxima "
            "(overrides splits.candidates)."
        ),
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
    from .pipeline import load_scenario
    from .pipeline import rank as run_rank
    from .render import print_json, show_rank, with_progress
    from .results import prepare_folder, write_rank

    overrides: dict = {}
    if samples is not None:
        overrides["dataset.samples"] = samples
    if classes is not None:
        overrides["dataset.classes"] = _classes(classes)
    if layers is not None:
        overrides["splits.layers"] = layers.value
    if candidates is not None:
        overrides["splits.candidates"] = candidates.value
    s = load_scenario(scenario, overrides)
    prepare_folder(s.results_dir)
    result = with_progress("ranking", run_rank, s, with_accuracy=accuracy, top=top)
    paths = write_rank(result)
    if json_:
        print_json({**result.to_dict(), "files": paths})
        return
    show_rank(result, paths)


@app.command()
@handled
def prune(
    scenario: ScenarioArg,
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
        int | None,
        typer.Option(
            min=1,
            help="Integration steps m of the SInGE criterion (cost grows with m); by default "
            "the fewest of 1, 2, 4, ..., 32 whose first round 2m confirms.",
        ),
    ] = None,
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
    of the network after each layer per filter; a progress bar with ETA follows each round.
    """
    from .pipeline import default_path, load_scenario
    from .pipeline import prune as run_prune
    from .render import print_json, show_pruned, with_progress
    from .results import prepare_folder, record_profile, write_pruned

    s = load_scenario(scenario)
    target_path = Path(output) if output else None
    if target_path is not None and target_path.suffix != ".pt":
        raise SeiError(f"--output: {target_path} must end in .pt")
    prepare_folder(target_path.parent if target_path else s.results_dir / "pruned")
    result = with_progress(
        "pruning", run_prune, s, split=split, criterion=criterion, target_flops=target_flops,
        target_params=target_params, finetune_steps=finetune_steps, step=step, steps=steps,
        samples=samples, seed=seed,
    )  # fmt: skip
    target = result.meta["target_flops"] or result.meta["target_params"]
    path = write_pruned(result, target_path or default_path(s, criterion, split, target))
    summary = {**result.summary, "path": str(path), "profile": None}
    if profile_hw:
        from .models.profile import profile_model

        prof = profile_model(str(path), repeats=20, warmup=3)
        record_profile(path, prof.path, prof.meta["hardware"])
        summary.update({"profile": str(prof.path), "hardware": prof.meta["hardware"]})
    if json_:
        print_json(summary)
        return
    show_pruned(summary)


# --------------------------------------------------------------------------- studies


@app.command()
@handled
def sweep(
    scenario: ScenarioArg,
    grid: Annotated[
        list[str],
        typer.Option(
            "--grid",
            "-g",
            help='A swept key and its values: network.bandwidth="1 Mbit/s,10 Mbit/s". Repeat for a cross product.',
        ),
    ] = ...,
    executor: ExecutorOpt = Executor.local,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
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
    from .render import emit, show_sweep, with_progress
    from .sweep import parse_grid, run_sweep

    axes = parse_grid(grid, scenario)
    result = with_progress(
        "sweep", run_sweep, scenario, axes, transient=False, executor=executor.value,
        workers=workers, scheduler=scheduler, frames=frames, output=output,
    )  # fmt: skip
    emit(result, json_, show_sweep)


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
    executor: ExecutorOpt = Executor.local,
    workers: WorkersOpt = 1,
    scheduler: SchedulerOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Exploration folder.")
    ] = None,
    json_: JsonOpt = False,
):
    """Design-space exploration: evaluate designs, report the Pareto-optimal ones."""
    from .explore import load_spec, run_explore
    from .render import emit, show_explore, with_progress

    design = load_spec(spec)
    result = with_progress(
        "explore", run_explore, design, transient=False, samples=samples,
        executor=executor.value, workers=workers, scheduler=scheduler, output=output,
    )  # fmt: skip
    emit(result, json_, show_explore)


@app.command()
@handled
def report(
    results_dir: Annotated[
        Path, typer.Argument(help="A folder written by simulate, sweep or explore.")
    ],
    json_: JsonOpt = False,
):
    """(Re)write the HTML report of a results folder from its files."""
    from .render import out, print_json
    from .results import read_run

    kind = read_run(results_dir)["kind"]
    if kind == "sweep":
        from .sweep import rewrite_report

        path = rewrite_report(results_dir)
    elif kind == "explore":
        from .explore import rewrite_report

        path = rewrite_report(results_dir)
    else:
        from .report import simulation_report
        from .results import read_result, write_report

        path = write_report(results_dir, simulation_report(read_result(results_dir)))
    if json_:
        print_json({"report": str(path)})
    else:
        out.print(f"Wrote {path}")


def main() -> None:
    """Console-script entry point: a mistake on the command line is one line, exit 2."""
    from typer.exceptions import Abort, Exit, TyperException

    try:
        code = app(
            prog_name="sei", standalone_mode=False
        )  # a command's typer.Exit comes back as its code
    except TyperException as exc:  # a usage error: unknown option, bad value, missing argument
        message = " ".join(exc.format_message().split()).replace("Value error, ", "")
        if not message:  # `sei` alone: the help was shown
            sys.exit(0)
        ctx = getattr(exc, "ctx", None)
        command = ctx.command_path if ctx is not None else "sei"
        typer.echo(f"error: {command}: {message} (see `{command} --help`)", err=True)
        sys.exit(2)
    except Exit as exc:
        sys.exit(exc.exit_code)
    except Abort:
        typer.echo("error: interrupted", err=True)
        sys.exit(130)
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":
    main()

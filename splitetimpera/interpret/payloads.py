"""What a codec really sends, frame by frame, and what it costs: measured on real images.

For a (split, codec) whose size depends on the data (entropy-coded tensors, JPEG/WebP/PNG
images), :func:`measure_payload` runs the model's head on real images (the scenario's
held-out test images; for a model without trained weights, real photographs,
:mod:`splitetimpera.data.photos`), encodes what crosses the split with the very codec of
:mod:`splitetimpera.codecs`, records every frame's size, decodes it, runs the tail, and
counts the correct answers (not for photographs: they have no labels, and random weights
have no accuracy). Remote computing's image codecs encode the image as a camera has it
(uint8 pixels at the model's input size, before normalisation), and the server normalises
the decoded image before the model. Codec times are medians over repeated runs on this
host, like the latency profiles.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable

import numpy as np
import torch

from ..codecs import IMAGE, Codec, parse_codec
from ..tables import find_payload, payload_images, store_payload

__all__ = ["measure_codec", "measure_payload", "payload_records", "accuracy_row"]

#: Images whose codec times are measured (median), and repetitions of each.
_TIMED, _REPEATS = 8, 5


def _images(scenario, loaded):
    from ..data.datasets import load_dataset
    from ..data.photos import photographs

    if payload_images(scenario) == "photos":
        return photographs(tuple(loaded.input_shape)), False
    d = scenario.dataset
    test = load_dataset(d.name, "test", loaded.input_shape, d.path).subset(d.classes)
    return test, True


def _median_time(fn, items: list) -> float:
    times = []
    for item in items[:_TIMED]:
        for _ in range(_REPEATS):
            started = time.perf_counter_ns()
            fn(item)
            times.append((time.perf_counter_ns() - started) / 1e9)
    return float(np.median(times)) if times else 0.0


def _to_numpy(value) -> list[np.ndarray]:
    values = value if isinstance(value, tuple) else (value,)
    return [v.detach().cpu().numpy() for v in values if isinstance(v, torch.Tensor)]


def _to_torch(arrays: list[np.ndarray], like):
    """Decoded arrays back in the shape of what the head gave (non-tensors as they were)."""
    if not isinstance(like, tuple):
        return torch.from_numpy(np.ascontiguousarray(arrays[0]))
    it = iter(arrays)
    return tuple(
        torch.from_numpy(np.ascontiguousarray(next(it))) if isinstance(v, torch.Tensor) else v
        for v in like
    )


def _one(value, i: int):
    """Image ``i`` of a batch (a tensor, or a tuple with non-tensor values kept)."""
    if isinstance(value, tuple):
        return tuple(v[i : i + 1] if isinstance(v, torch.Tensor) else v for v in value)
    return value[i : i + 1]


@torch.no_grad()
def measure_codec(graph, split: str, codec: Codec, data, labelled: bool) -> dict:
    """Run ``codec`` at ``split`` on every image of ``data`` as a real link would.

    Each frame is encoded on its own, its bytes counted, decoded, and the server's tail run
    on what was decoded (a batch at a time: the same numbers, faster).

    Args:
        graph: the traced model (:class:`~splitetimpera.models.graph.ModelGraph`).
        data: the images (:class:`~splitetimpera.data.datasets.ImageData`).
        labelled: whether the labels mean anything (accuracy is NaN otherwise).

    Returns:
        ``{"split", "compression", "sizes" (bytes per image), "payload_bytes" (mean),
        "accuracy", "samples", "encode_s", "decode_s"}``.
    """
    if codec.kind == IMAGE or split == "input":
        head, tail = (lambda x: x), graph.model.eval()
    else:
        head, tail = graph.head(split).eval(), graph.tail(split).eval()
    sizes, correct, sent = [], 0, []
    for images, labels in data.batches(64):
        if codec.kind == IMAGE:
            pixels = data.pixels(images)
            payloads = [codec.encode(p) for p in pixels]
            decoded = np.stack([codec.decode(b, p) for b, p in zip(payloads, pixels)])
            logits = tail(data.normalise(decoded))
            sent.extend(pixels[: max(_TIMED - len(sent), 0)])
        else:
            crossing = head(images)
            payloads, received = [], []
            for i in range(len(labels)):
                arrays = _to_numpy(_one(crossing, i))
                payloads.append(codec.encode(arrays))
                received.append(codec.decode(payloads[-1], arrays))
                if len(sent) < _TIMED:
                    sent.append(arrays)
            # the batch as the server reconstructs it, frame by frame, through the tail at once
            batch = [np.concatenate(parts) for parts in zip(*received)]
            logits = tail(_to_torch(batch, crossing))
        sizes.extend(len(b) for b in payloads)
        correct += int((logits.argmax(1) == labels).sum())
    encoded = [codec.encode(item) for item in sent]
    return {
        "split": split,
        "compression": codec.spec,
        "sizes": [int(s) for s in sizes],
        "payload_bytes": float(np.mean(sizes)) if sizes else math.nan,
        "accuracy": correct / len(data) if labelled and len(data) else math.nan,
        "samples": len(data),
        "encode_s": _median_time(codec.encode, sent),
        "decode_s": _median_time(lambda pair: codec.decode(*pair), list(zip(encoded, sent))),
    }


def measure_payload(scenario, split: str, compression: str, loaded=None, graph=None) -> dict:
    """Every frame's bytes, the accuracy and the codec times of ``compression`` at ``split``,
    on the scenario's held-out images (photographs for a model without trained weights).

    Returns:
        :func:`measure_codec`'s record, with ``images`` saying what it was measured on;
        the accuracy is NaN without labels or trained weights.
    """
    from ..models.graph import ModelGraph
    from ..models.zoo import load_model

    m = scenario.model
    if loaded is None:
        loaded = load_model(m.name, weights=m.resolved_weights, input_shape=m.resolved_input)
    graph = graph or ModelGraph(loaded.module, loaded.input_shape)
    data, labelled = _images(scenario, loaded)
    record = measure_codec(
        graph, split, parse_codec(compression), data, labelled and loaded.trained
    )
    record["images"] = "held-out test images" if labelled else "photographs (no labels)"
    return record


def accuracy_row(record: dict, seed: int) -> dict:
    """A payload measurement as a row of an accuracy table (the mean bytes per frame)."""
    return {
        "split": record["split"],
        "compression": record["compression"],
        "payload_bytes": record["payload_bytes"],
        "accuracy": record["accuracy"],
        "samples": record["samples"],
        "seed": seed,
        "encode_s": record["encode_s"],
        "decode_s": record["decode_s"],
    }


def payload_records(
    scenario,
    pairs: list[tuple[str, str]],
    progress: Callable[[int, int, str], None] | None = None,
) -> dict[tuple[str, str], dict]:
    """The payload measurements of ``pairs`` (split, codec): shipped, cached, or measured
    now (and cached)."""
    out, todo = {}, []
    for pair in pairs:
        found = find_payload(scenario, *pair)
        if found is None:
            todo.append(pair)
        else:
            out[pair] = found
    if not todo:
        return out
    from ..models.graph import ModelGraph
    from ..models.zoo import load_model

    m = scenario.model
    loaded = load_model(m.name, weights=m.resolved_weights, input_shape=m.resolved_input)
    graph = ModelGraph(loaded.module, loaded.input_shape)
    for i, pair in enumerate(todo):
        record = measure_payload(scenario, *pair, loaded=loaded, graph=graph)
        store_payload(scenario, record)
        out[pair] = record
        if progress is not None:
            progress(i + 1, len(todo), f"{pair[0]} {pair[1]}")
    return out

"""Storage helpers: atomic writes, cache keys, JSON cleaning, registries, bounded caches."""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from splitetimpera.errors import NotFoundError, SeiError, UnknownNameError
from splitetimpera.store import (
    BoundedCache,
    Registry,
    atomic_write_text,
    cache_dir,
    cache_key,
    file_hash,
    jsonable,
    records,
    write_csv,
    write_json,
    write_parquet,
)


def test_atomic_writes_leave_no_temporary_file_and_replace_the_old(tmp_path):
    path = tmp_path / "a.txt"
    atomic_write_text(path, "old")
    atomic_write_text(path, "new")
    assert path.read_text() == "new"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_an_interrupted_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "summary.csv"
    write_csv(pd.DataFrame({"x": [1]}), path)
    before = path.read_bytes()

    def boom(self, *args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(pd.DataFrame, "to_csv", boom)
    with pytest.raises(OSError):
        write_csv(pd.DataFrame({"x": [2]}), path)
    assert path.read_bytes() == before


def test_csv_is_byte_identical_for_equal_tables(tmp_path):
    frame = pd.DataFrame({"a": [0.1 + 0.2, 1 / 3], "b": ["x", "y"]})
    write_csv(frame, tmp_path / "1.csv")
    write_csv(frame.copy(), tmp_path / "2.csv")
    assert (tmp_path / "1.csv").read_bytes() == (tmp_path / "2.csv").read_bytes()
    assert (tmp_path / "1.csv").read_text() == "a,b\n0.3,x\n0.333333333,y\n"


def test_parquet_and_json_round_trip(tmp_path):
    frame = pd.DataFrame({"t": [0.5, math.nan], "n": [1, 2]})
    write_parquet(frame, tmp_path / "f.parquet")
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "f.parquet"), frame)
    write_json(tmp_path / "r.json", {"x": math.inf, "p": Path("a/b"), "n": np.int64(3)})
    assert json.loads((tmp_path / "r.json").read_text()) == {"x": None, "p": "a/b", "n": 3}


def test_cache_key_is_canonical_and_short():
    a = cache_key({"b": 1, "a": [1, 2]})
    assert a == cache_key({"a": [1, 2], "b": 1})  # key order does not matter
    assert a != cache_key({"a": [2, 1], "b": 1})
    assert len(a) == 20 and len(cache_key({}, 8)) == 8
    # shipped I-SPLIT tables are named by keys made from exactly this text
    assert cache_key({"v": 1}) == hashlib.sha256(b'{"v": 1}').hexdigest()[:20]


def test_file_hash_follows_the_bytes(tmp_path):
    path = tmp_path / "w.bin"
    path.write_bytes(b"abc")
    first = file_hash(path)
    assert first == "ba7816bf8f01cfea"  # sha256("abc")
    path.write_bytes(b"abcd")
    assert file_hash(path) != first


def test_jsonable_and_records():
    value = {"nan": math.nan, "arr": (np.float32(1.5), {1, 2}), 3: np.bool_(True)}
    assert jsonable(value) == {"nan": None, "arr": [1.5, [1, 2]], "3": True}
    frame = pd.DataFrame({"a": [1.0, math.nan], "b": ["x", "y"]})
    assert records(frame) == [{"a": 1.0, "b": "x"}, {"a": None, "b": "y"}]


def test_cache_dir_honours_sei_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("SEI_CACHE", str(tmp_path / "c"))
    assert cache_dir("isplit") == tmp_path / "c" / "isplit"
    assert (tmp_path / "c" / "isplit").is_dir()


def test_registry_finds_by_name_and_explains_unknown_names():
    things: Registry[type] = Registry("widget")

    @things.register
    class Sprocket:
        name = "sprocket"

    assert things.get("sprocket") is Sprocket and "sprocket" in things
    assert things.names() == ["sprocket"] and len(things) == 1
    with pytest.raises(UnknownNameError) as info:
        things.get("sprocet")
    message = str(info.value)
    assert message == "unknown widget 'sprocet'; did you mean 'sprocket'? Known: sprocket"
    # one error type for every registry, shown as one line by the CLI
    assert isinstance(info.value, NotFoundError) and isinstance(info.value, SeiError)
    with pytest.raises(ValueError, match="already registered"):

        @things.register
        class Other:
            name = "sprocket"

    with pytest.raises(TypeError, match="needs a non-empty str `name`"):
        things.register(type("Nameless", (), {}))
    things.unregister("sprocket")
    assert "sprocket" not in things


def test_bounded_cache_evicts_the_least_recently_used():
    cache: BoundedCache[int] = BoundedCache(2)
    made = []

    def make(value):
        made.append(value)
        return value

    assert cache.get("a", lambda: make(1)) == 1
    assert cache.get("b", lambda: make(2)) == 2
    assert cache.get("a", lambda: make(99)) == 1  # a hit, and now the most recent
    cache.get("c", lambda: make(3))  # evicts b
    assert len(cache) == 2
    assert cache.get("b", lambda: make(4)) == 4
    assert made == [1, 2, 3, 4]
    with pytest.raises(ValueError):
        BoundedCache(0)

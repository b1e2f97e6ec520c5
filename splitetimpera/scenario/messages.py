"""Pydantic's validation errors as one line naming the key path and what is allowed."""

from __future__ import annotations

import difflib
import re
from typing import Any, NoReturn

from pydantic import BaseModel, ValidationError

from ..errors import ScenarioError, did_you_mean
from .network import BANDWIDTH_TAGS, LOSS_TAGS
from .power import MODEL_TAGS

#: The tags of tagged unions, by the key that holds the union: not part of a key path.
_UNION_TAGS = {
    "loss": LOSS_TAGS,
    "power": MODEL_TAGS,
    "radio": MODEL_TAGS,
    "bandwidth": BANDWIDTH_TAGS,
    "downlink": BANDWIDTH_TAGS,
}
_ALL_TAGS = frozenset(t for tags in _UNION_TAGS.values() for t in tags)

__all__ = ["raise_one_line", "section_of", "fields_at"]


def section_of(annotation: Any) -> type[BaseModel] | None:
    """The section class inside a field's annotation (through Optional, unions, lists)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = section_of(arg)
        if found is not None:
            return found
    return None


def fields_at(model: type[BaseModel], loc: tuple) -> type[BaseModel] | None:
    """The section class found by walking ``loc`` from ``model``."""
    current: Any = model
    for part in loc:
        if isinstance(part, int):
            continue
        if not (isinstance(current, type) and issubclass(current, BaseModel)):
            return None
        field = current.model_fields.get(part)
        if field is None:
            if part in _ALL_TAGS:
                continue
            return None
        current = section_of(field.annotation)
    return current if isinstance(current, type) and issubclass(current, BaseModel) else None


def _key(loc: tuple) -> str:
    out = ""
    for i, part in enumerate(loc):
        if i > 0 and part in _UNION_TAGS.get(loc[i - 1], ()):
            continue
        if isinstance(part, int):
            out += f"[{part}]"
        elif isinstance(part, str) and part.startswith(("function-", "literal[", "list[")):
            continue
        else:
            out += f".{part}" if out else str(part)
    return out


def _describe(error: dict, root: type[BaseModel]) -> tuple[str, str]:
    """(key path, message) for one pydantic error."""
    loc = tuple(error.get("loc", ()))
    kind = error.get("type", "")
    given = error.get("input")
    msg = error.get("msg", "")
    if kind == "extra_forbidden":
        parent = fields_at(root, loc[:-1])
        allowed = [n for n, f in parent.model_fields.items() if not f.exclude] if parent else []
        hint = did_you_mean(loc[-1], allowed)
        return _key(loc), f"unknown key{hint or '.'} Allowed here: {', '.join(allowed)}"
    if kind == "missing":
        return _key(loc), "is required but missing"
    if kind == "literal_error":
        expected = error.get("ctx", {}).get("expected", "")
        options = re.findall(r"'([^']*)'", expected)
        close = difflib.get_close_matches(str(given), options, n=1) if options else []
        hint = f" (did you mean {close[0]!r}?)" if close else ""
        return _key(loc), f"{given!r} is not allowed; allowed: {', '.join(options)}{hint}"
    if kind in ("model_type", "model_attributes_type", "dict_type"):
        return _key(loc), f"expected a mapping of keys, got {given!r}"
    if kind in ("list_type", "tuple_type"):
        return _key(loc), f"expected a list, got {given!r}"
    if kind.startswith(("int_", "float_")):
        return _key(loc), f"expected a number, got {given!r}"
    if kind.startswith("string_") or kind == "str_type":
        return _key(loc), f"expected text, got {given!r}"
    if kind == "bool_type" or kind.startswith("bool_"):
        return _key(loc), f"expected true or false, got {given!r}"
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, ") :]
    elif msg.startswith("Assertion failed, "):
        msg = msg[len("Assertion failed, ") :]
    # model validators report with an empty loc; their message may start with "key: "
    match = re.match(r"^([a-z_][a-z0-9_.\[\]]*): (.*)$", msg)
    if match and not kind.startswith("extra"):
        inner = match.group(1)
        parent = _key(loc)
        return (f"{parent}.{inner}" if parent else inner), match.group(2)
    return _key(loc), msg


def _pick(errors: list[dict]) -> dict:
    """The most useful error of a union's alternatives (the one that got furthest)."""
    return max(errors, key=lambda e: (e.get("type") != "missing", len(e.get("loc", ()))))


def raise_one_line(source: str | None, exc: ValidationError, root: type[BaseModel]) -> NoReturn:
    """Raise a :class:`ScenarioError` for the most useful of ``exc``'s errors."""
    errors = exc.errors(include_url=False)
    # A wrong value in a key the user wrote says more than a key left out: report it first.
    errors.sort(key=lambda e: e.get("type") == "missing")
    # Union alternatives: one error per branch; keep only the informative branch.
    by_key: dict[str, list[dict]] = {}
    for err in errors:
        by_key.setdefault(_key(tuple(err.get("loc", ()))), []).append(err)
    first_key = next(iter(by_key))
    first = _pick(by_key[first_key]) if len(by_key[first_key]) > 1 else by_key[first_key][0]
    key, message = _describe(first, root)
    more = len(by_key) - 1
    if more:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    raise ScenarioError(source, key or None, message) from None

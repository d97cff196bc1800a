"""Untrusted JSON bodies, read so that any bad one is a `BadJson` saying why, never a traceback."""

from __future__ import annotations

import json
from typing import Any

MAX_DEPTH = 32
"""No body WeChat or the sandbox reads nests deeper; deeper ones are refused before anything walks them."""
MAX_INT_DIGITS = 100
"""Longer integer literals read as floats (`inf` past 1e308): no field takes one, and each field check says so."""


class BadJson(ValueError):
    """A body that is not UTF-8 JSON within the limits above; the message names the problem."""


def _integer(literal: str) -> int | float:
    # Python refuses to build ints over 4,300 digits, and a 400-digit one breaks every float computation
    # downstream: such a number is out of range for every field, so it becomes one that no range check accepts.
    return int(literal) if len(literal.lstrip("-")) <= MAX_INT_DIGITS else float(literal)


def _too_deep(value: object) -> bool:
    """Whether `value` nests lists and objects more than MAX_DEPTH levels (walked without recursion)."""
    stack: list[tuple[object, int]] = [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict):
            children: list[object] = list(item.values())
        elif isinstance(item, list):
            children = item
        else:
            continue
        if level > MAX_DEPTH:
            return True
        stack.extend((child, level + 1) for child in children)
    return False


def loads(raw: bytes) -> Any:
    """The JSON value in `raw`; BadJson for a body that is not UTF-8, not JSON, or nested too deeply."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise BadJson(f"not UTF-8 (byte {exc.start}: {exc.reason})") from None
    try:
        value = json.loads(text, parse_int=_integer)
    except RecursionError:
        raise BadJson(f"nested deeper than {MAX_DEPTH} levels") from None
    except ValueError as exc:
        raise BadJson(f"not JSON ({exc})") from None
    if _too_deep(value):
        raise BadJson(f"nested deeper than {MAX_DEPTH} levels")
    return value

"""Untrusted JSON bodies: every bad one is a BadJson naming the problem, never a RecursionError or a huge int."""

from __future__ import annotations

import math

import pytest

from mock_wechat import json_input
from mock_wechat.json_input import BadJson


def test_an_object_reads_as_a_dict() -> None:
    assert json_input.loads(b'{"a": [1, 2.5, "x", null, true]}') == {"a": [1, 2.5, "x", None, True]}


def test_utf8_text_reads() -> None:
    assert json_input.loads('{"nickname": "爱丽丝"}'.encode()) == {"nickname": "爱丽丝"}


def test_nesting_deeper_than_the_interpreter_allows_is_refused() -> None:
    with pytest.raises(BadJson, match=r"^nested deeper than 32 levels$"):
        json_input.loads(b"[" * 100_000 + b"]" * 100_000)


def test_nesting_just_past_the_limit_is_refused() -> None:
    with pytest.raises(BadJson, match=r"^nested deeper than 32 levels$"):
        json_input.loads(b'{"a":' * 32 + b"[]" + b"}" * 32)


def test_nesting_at_the_limit_reads() -> None:
    assert json_input.loads(b"[" * 32 + b"]" * 32) is not None


def test_a_body_that_is_not_utf8_is_refused() -> None:
    with pytest.raises(BadJson, match=r"^not UTF-8 \(byte 9: invalid start byte\)$"):
        json_input.loads(b'{"pin": "\xff"}')


def test_text_that_is_not_json_is_refused() -> None:
    with pytest.raises(BadJson, match=r"^not JSON \(Expecting value: line 1 column 1 \(char 0\)\)$"):
        json_input.loads(b"not json")


def test_an_integer_past_python_s_digit_limit_reads_as_infinity() -> None:
    assert json_input.loads(b'{"n": ' + b"9" * 5000 + b"}") == {"n": math.inf}


def test_an_integer_of_400_digits_reads_as_a_float_no_field_accepts() -> None:
    value = json_input.loads(b"-" + b"9" * 400)
    assert isinstance(value, float)
    assert value == -math.inf


def test_an_integer_of_100_digits_stays_an_integer() -> None:
    assert json_input.loads(b"9" * 100) == int("9" * 100)

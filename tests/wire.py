"""Assertions on whole wire bodies, with the volatile `rid` checked by shape."""

from __future__ import annotations

import re
from typing import Any

RID = re.compile(r"^(?P<msg>.*), rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$")


def assert_api_error(body: Any, errcode: int, errmsg: str) -> None:
    """`body` is exactly `{"errcode": errcode, "errmsg": "<errmsg>, rid: xxxxxxxx-xxxxxxxx-xxxxxxxx"}`."""
    assert isinstance(body, dict)
    assert set(body) == {"errcode", "errmsg"}, body
    assert body["errcode"] == errcode, body
    match = RID.match(body["errmsg"])
    assert match is not None, body
    assert match["msg"] == errmsg, body

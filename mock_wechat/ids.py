"""Seeded generator for every id WeChat hands out (codes, tokens, tickets, rids)."""

from __future__ import annotations

import base64
import hashlib
import random
import string

from mock_wechat import times

_URLSAFE = string.ascii_letters + string.digits + "-_"


class Ids:
    """One generator per app; reproducible for a given seed and boot number."""

    def __init__(self, seed: int | None = None, boot: int = 0) -> None:
        self.seed, self.boot = seed, boot
        self._random = random.Random(None if seed is None else f"{seed}:{boot}")

    def reseed(self) -> None:
        """Start the sequence again (on reset), so each test of a seeded run gets the same ids."""
        self._random.seed(None if self.seed is None else f"{self.seed}:{self.boot}")

    def _chars(self, alphabet: str, n: int) -> str:
        return "".join(self._random.choices(alphabet, k=n))

    def _hex(self, n: int) -> str:
        """`n` hex digits (one draw of random bits, not one choice per character)."""
        return f"{self._random.getrandbits(4 * n):0{n}x}"

    def _digits(self, n: int) -> str:
        return f"{self._random.randrange(10**n):0{n}d}"

    def code(self) -> str:
        """A web-authorization code: 32 characters like the real ones (`081xYz...`)."""
        return "0" + self._chars(string.digits, 2) + self._chars(string.ascii_letters + string.digits, 29)

    def token(self, length: int = 136) -> str:
        """An opaque access/refresh token in the real alphabet (letters, digits, `-`, `_`)."""
        return self._chars(_URLSAFE, length)

    def ticket(self) -> str:
        """A jsapi_ticket: 86 characters, like the doc's sample."""
        return self._chars(_URLSAFE, 86)

    def nonce(self) -> str:
        """A nonce_str: 32 letters and digits."""
        return self._chars(string.ascii_letters + string.digits, 32)

    def prepay_id(self, now: float) -> str:
        """`wx` + Beijing yyyyMMddHHmmss + 20 hex: `wx201410272009395522657a690389285100`."""
        return "wx" + times.compact(now) + self._hex(20)

    def transaction_id(self, now: float) -> str:
        """28 digits, `4200` + 6 digits + Beijing yyyyMMdd + 10 digits, like `4200000891202103228088184743`."""
        return "4200" + self._digits(6) + times.day(now) + self._digits(10)

    def refund_id(self, now: float) -> str:
        """29 digits, `5000` + 7 digits + Beijing yyyyMMdd + 10 digits."""
        return "5000" + self._digits(7) + times.day(now) + self._digits(10)

    def uuid(self) -> str:
        """A v4-shaped UUID (v3 notification ids)."""
        h = self._hex(32)
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-a{h[17:20]}-{h[20:]}"

    def rid(self, now: float) -> str:
        """A request id as WeChat prints it in `errmsg`: `8hex-8hex-8hex`, the first part the time."""
        return f"{int(now) & 0xFFFFFFFF:08x}-{self._hex(8)}-{self._hex(8)}"


def openid_for(appid: str, user_id: str) -> str:
    """The stable openid of a user under one appid: `o` + 27 url-safe characters."""
    digest = hashlib.sha256(f"openid:{appid}:{user_id}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]


def unionid_for(user_id: str) -> str:
    """The stable unionid of a user across every account of the open platform."""
    digest = hashlib.sha256(f"unionid:{user_id}".encode()).digest()
    return "o" + base64.urlsafe_b64encode(digest).decode()[:27]

"""Rules for base access tokens (`/cgi-bin/token`, `/cgi-bin/stable_token`) and jsapi tickets."""

from __future__ import annotations

from dataclasses import dataclass, replace
from enum import StrEnum

from mock_wechat import errors

TOKEN_TTL = 7200
GRACE = 300
"""A superseded token stays valid this long; a stable token is pre-rolled this long before expiry."""
FORCE_REFRESH_PER_DAY = 20
FORCE_REFRESH_SPACING = 30
DAY = 86_400


class TokenKind(StrEnum):
    TOKEN = "token"  # noqa: S105 - a kind name, not a secret
    STABLE = "stable"


@dataclass(frozen=True)
class AccessToken:
    """A base (interface-calling) access token of one Official Account."""

    access_token: str
    appid: str
    kind: str
    issued_at: float
    expires_at: float
    superseded_until: float | None = None

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now))

    def valid(self, now: float) -> bool:
        return now < self.expires_at and (self.superseded_until is None or now < self.superseded_until)


def new_token(token: str, appid: str, kind: TokenKind, now: float) -> AccessToken:
    return AccessToken(token, appid, kind.value, now, now + TOKEN_TTL)


def supersede(old: AccessToken, now: float, grace: float = GRACE) -> AccessToken:
    """An older token after a new one was issued: valid `grace` seconds more, never longer than it had."""
    until = now + grace
    if old.superseded_until is not None:
        until = min(until, old.superseded_until)
    return replace(old, superseded_until=min(until, old.expires_at))


def check_token(record: AccessToken | None, now: float) -> AccessToken:
    """The token a call presented, or the error WeChat answers for it."""
    if record is None:
        raise errors.InvalidCredential("this access_token was never issued by the sandbox (or was pruned)")
    if record.superseded_until is not None and now >= record.superseded_until:
        raise errors.InvalidCredential(
            "a newer access_token was issued for this appid and the 5-minute overlap of the old one has passed"
        )
    if now >= record.expires_at:
        raise errors.AccessTokenExpired(f"access_token expired {int(now - record.expires_at)} s ago (7200 s lifetime)")
    return record


def reusable_stable(current: AccessToken | None, now: float) -> AccessToken | None:
    """Normal-mode stable_token returns the current token until 5 minutes before it expires."""
    if current is None or not current.valid(now) or current.expires_at - now <= GRACE:
        return None
    return current


def check_force_refresh(history: list[float], now: float) -> None:
    """force_refresh is limited to 20 a day, at least 30 s apart."""
    recent = [t for t in history if now - t < DAY]
    if len(recent) >= FORCE_REFRESH_PER_DAY:
        raise errors.DailyQuotaLimit("stable_token force_refresh is limited to 20 calls a day")
    if recent and now - max(recent) < FORCE_REFRESH_SPACING:
        raise errors.MinuteQuotaLimit("stable_token force_refresh calls must be at least 30 s apart")


class TicketType(StrEnum):
    JSAPI = "jsapi"
    WX_CARD = "wx_card"


@dataclass(frozen=True)
class Ticket:
    """A jsapi_ticket (or wx_card api_ticket) of one Official Account."""

    ticket: str
    appid: str
    type: str
    issued_at: float
    expires_at: float

    def expires_in(self, now: float) -> int:
        return max(0, int(self.expires_at - now))


def ticket_type(value: str) -> TicketType:
    try:
        return TicketType(value)
    except ValueError:
        raise errors.InvalidArgs(f"type must be jsapi or wx_card, got {value!r}") from None


def reusable_ticket(current: Ticket | None, now: float) -> Ticket | None:
    """getticket returns the same ticket while it is valid (pre-rolled 5 minutes before expiry)."""
    if current is None or current.expires_at - now <= GRACE:
        return None
    return current


def new_ticket(ticket: str, appid: str, kind: TicketType, now: float) -> Ticket:
    return Ticket(ticket, appid, kind.value, now, now + TOKEN_TTL)

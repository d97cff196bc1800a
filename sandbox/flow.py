"""One user's or one order's journal entries laid out on the seed's nine steps (pure): `build_flow`.

Which entries are the subject's, most certain first:
- an identity in the entry: the user named in the OAuth pages' notes, an openid (query, body or answer), the
  order's out_trade_no (with its merchant), its prepay_id (a pay sheet's package, the sheet a confirmation was
  for), a pay sheet of the order (its id is in the confirm and cancel paths);
- the sign-in: authorize pages go together by their appid, redirect_uri and state, the picker's and the consent
  form's posts with the attempt they follow; a code exchange that failed (no openid to tell) belongs to the
  sign-in that just issued a code for its appid;
- the account's own calls (access_token, jsapi_ticket, the JS-SDK file) name no user: those after the sign-in,
  else the latest ones before it (the merchant's cached token is still the one it uses);
- a wx.config names no user either: the one on the page that opened the order's pay sheet, else one whose page
  URL names the order, else the latest after the sign-in;
- a pay sheet refused without a package names nothing: those after the order's unified order, before the next.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sandbox.flow_steps import (
    ARROWS,
    OAUTH_PATHS,
    SHEET_STEPS,
    Arrow,
    answer_json,
    bridge_call,
    classify,
    err_msg,
    failure,
    named_user,
    openid_of,
    values,
)

SHOWN = 6
"""The most messages one arrow shows (the latest); the journal link finds the rest."""


# -- who: the subject and its sign-in ------------------------------------------------------------------


@dataclass(frozen=True)
class SheetRef:
    """A pay sheet the bridge opened for the order: its id, when, and the page URL (for that page's wx.config)."""

    sheet_id: str
    opened_at: float
    page_url: str = ""


@dataclass(frozen=True)
class OrderRef:
    mch_id: str
    out_trade_no: str
    appid: str = ""
    prepay_id: str = ""
    transaction_id: str = ""
    created_at: float = 0.0


@dataclass
class Attempt:
    """One sign-in: the authorize pages, the picker's and consent form's posts, up to the redirect (a 302)."""

    key: tuple[str, str, str]
    """appid, redirect_uri, state."""
    entries: list[dict[str, Any]] = field(default_factory=list)
    user: str = ""
    code_at: float | None = None
    """When WeChat redirected back (with a code, or with the state only when the user denied)."""

    @property
    def start(self) -> float:
        return float(self.entries[0]["timestamp"])

    @property
    def appid(self) -> str:
        return self.key[0]


@dataclass(frozen=True)
class Subject:
    """Whose flow: a user (their openids), an order, both (an order's payer), or nobody known yet."""

    user_id: str = ""
    openids: frozenset[str] = frozenset()
    order: OrderRef | None = None
    sheets: tuple[SheetRef, ...] = ()
    notifications: tuple[Mapping[str, Any], ...] = ()
    """The order's payment notifications as the control API writes them (each with its `attempts`)."""


def sign_ins(entries: Iterable[Mapping[str, Any]]) -> list[Attempt]:
    """The OAuth entries grouped into sign-in attempts, oldest first: an authorize page joins the attempt of its
    appid, redirect_uri and state still waiting for its redirect; the picker's and the consent form's posts join
    the latest one waiting."""
    attempts: list[Attempt] = []
    waiting: dict[int, None] = {}  # the attempts not redirected yet, by index, oldest first
    by_key: dict[tuple[str, str, str], int] = {}
    for entry in entries:
        if entry.get("method") == "OPTIONS" or entry.get("path") not in OAUTH_PATHS:
            continue
        query = entry.get("query") or {}
        key = (str(query.get("appid", "")), str(query.get("redirect_uri", "")), str(query.get("state", "")))
        is_page = entry["path"] == "/connect/oauth2/authorize"
        index = by_key.get(key) if is_page else next(reversed(waiting), None)
        if index is None:
            attempts.append(Attempt(key))
            index = len(attempts) - 1
            waiting[index] = None
            by_key[key] = index
        current = attempts[index]
        current.entries.append(dict(entry))
        current.user = current.user or named_user(entry)
        if int(entry.get("status") or 0) == 302:
            current.code_at = float(entry["timestamp"])
            waiting.pop(index, None)
            if by_key.get(current.key) == index:
                del by_key[current.key]
    return attempts


def user_attempt(attempts: Sequence[Attempt], subject: Subject) -> Attempt | None:
    """The sign-in this flow starts with: the user's latest (before the order, for an order), or the latest of
    anybody's when nobody is known."""
    if subject.order is not None:
        created = subject.order.created_at
        return next(
            (a for a in reversed(attempts) if a.user == subject.user_id and a.user and a.start <= created), None
        )
    if subject.user_id:
        return next((a for a in reversed(attempts) if a.user == subject.user_id), None)
    return attempts[-1] if attempts else None


def latest_user(entries: Sequence[Mapping[str, Any]], users_by_openid: Mapping[str, str]) -> str | None:
    """The latest activity: the user of the newest entry that concerns one, '' when that is a sign-in by
    nobody chosen yet (the picker, or a refused authorize link), None when no entry concerns a user."""
    signed_in_as = {e["rid"]: a.user for a in sign_ins(entries) for e in a.entries}
    for entry in reversed(entries):
        if classify(entry) is None:
            continue
        user = named_user(entry) or users_by_openid.get(openid_of(entry), "")
        if user:
            return user
        if entry.get("rid") in signed_in_as:
            return signed_in_as[entry["rid"]]
    return None


def latest_order(entries: Sequence[Mapping[str, Any]], openids: frozenset[str], since: float) -> OrderRef | None:
    """The latest unified order asked for one of `openids` after `since`, as the call named it (WeChat may have
    refused it: then no order exists, and that call is the flow's failing step), or None."""
    for entry in reversed(entries):
        if classify(entry) == "prepay" and float(entry["timestamp"]) >= since and openid_of(entry) in openids:
            given = values(entry)
            mch_id = str(given.get("mch_id") or given.get("mchid") or "")
            appid = str(given.get("appid") or "")
            return OrderRef(mch_id, str(given.get("out_trade_no") or ""), appid, created_at=float(entry["timestamp"]))
    return None


# -- which entries are the subject's, per arrow ------------------------------------------------------


def about_order(entry: Mapping[str, Any], order: OrderRef) -> bool:
    """A pay call about the order: its out_trade_no (with its merchant), its transaction_id, or its v3 path."""
    given = values(entry)
    merchant = str(given.get("mch_id") or given.get("mchid") or order.mch_id)
    if merchant != order.mch_id:
        return False
    if given.get("out_trade_no") == order.out_trade_no:
        return True
    if order.transaction_id and given.get("transaction_id") == order.transaction_id:
        return True
    tail = str(entry.get("path", "")).rsplit("/", 1)[-1]
    return tail in {order.out_trade_no, order.transaction_id} - {""}


Calls = list[dict[str, Any]]


def select(journal: Sequence[Mapping[str, Any]], subject: Subject, now: float) -> dict[str, Calls]:
    """The subject's entries for each arrow (oldest first), from the journal (oldest first)."""
    calls: dict[str, Calls] = {a.key: [] for a in ARROWS}
    for entry in journal:
        key = classify(entry)
        if key is not None:
            calls[key].append(dict(entry))
    chosen: dict[str, Calls] = {a.key: [] for a in ARROWS}
    attempts = sign_ins(calls["authorize"])
    attempt = user_attempt(attempts, subject)
    start = attempt.start if attempt else 0.0
    appid = (subject.order.appid if subject.order else "") or (attempt.appid if attempt else "")
    if attempt is not None:
        chosen["authorize"] = attempt.entries
        chosen["code"] = [e for e in attempt.entries if int(e.get("status") or 0) == 302]
    order = subject.order
    if order is not None:
        chosen["prepay"] = [e for e in calls["prepay"] if about_order(e, order)]
        chosen["query"] = [e for e in calls["query"] if about_order(e, order)]
    placed = float(chosen["prepay"][0]["timestamp"]) if chosen["prepay"] else now
    codes = sorted(a.code_at for a in attempts if a.code_at is not None and a.appid == appid)
    for key in ("oauth_token", "userinfo", "refresh"):
        for entry in calls[key]:
            at, openid = float(entry["timestamp"]), openid_of(entry)
            if at < start:
                continue
            if openid:
                mine = openid in subject.openids
            else:  # a failed exchange or refresh: no openid to tell, so the sign-in that just issued a code
                issued = bisect.bisect_right(codes, at)
                mine = attempt is not None and issued > 0 and codes[issued - 1] == attempt.code_at
                mine = mine and values(entry).get("appid", appid) == appid
            if mine:
                chosen[key].append(entry)
    for key in ("token", "ticket", "jssdk"):
        chosen[key] = account_calls(calls[key], calls["token"], appid, (start, placed), cached=key != "jssdk")
    chosen["config"] = configs(calls["config"], subject, start, placed)
    chosen["pay"] = pay_calls(calls["pay"], calls["prepay"], subject, placed)
    return chosen


def account_calls(calls: Calls, tokens: Calls, appid: str, window: tuple[float, float], *, cached: bool) -> Calls:
    """The account's token, ticket or JS-SDK calls between the sign-in and the order, else (`cached`: what the
    merchant keeps) the latest before. A ticket call names no appid: its access_token tells whose it is not."""
    theirs = {str(answer_json(e).get("access_token")) for e in tokens if values(e).get("appid", appid) != appid}
    mine = [
        e
        for e in calls
        if values(e).get("appid", appid) == appid and str(values(e).get("access_token", "")) not in theirs
    ]
    start, end = window
    during = [e for e in mine if start <= float(e["timestamp"]) <= end]
    if during or not cached:
        return during
    before = [e for e in mine if float(e["timestamp"]) < start]
    return [{**before[-1], "earlier": True}] if before else []


def configs(calls: Calls, subject: Subject, start: float, placed: float) -> Calls:
    """wx.config on the page of the order's pay sheet, else on a page naming the order, else after the sign-in."""
    calls = [e for e in calls if float(e["timestamp"]) >= start]
    pages = {s.page_url for s in subject.sheets if s.page_url}
    if pages:
        on_page = [e for e in calls if bridge_call(e)[1].split("#", 1)[0] in pages]
        if on_page:
            return on_page
    if subject.order is not None:
        named = [e for e in calls if subject.order.out_trade_no in bridge_call(e)[1]]
        if named:
            return named
        return [e for e in calls if float(e["timestamp"]) <= placed] or calls[-1:]
    return calls


def pay_calls(calls: Calls, prepays: Calls, subject: Subject, placed: float) -> Calls:
    """The order's pay sheets (opened, confirmed, cancelled), and the sheets refused after its unified order."""
    order = subject.order
    if order is None:
        return []
    ids = {s.sheet_id for s in subject.sheets}
    others = [float(e["timestamp"]) for e in prepays if float(e["timestamp"]) > placed and not about_order(e, order)]
    until = min(others, default=float("inf"))
    found = []
    for entry in calls:
        prepay_id = prepay_of(entry)
        if prepay_id:  # the journal names it: the sheet's package, or the sheet a confirmation was for
            if prepay_id == order.prepay_id:
                found.append(entry)
            continue
        path, at = str(entry["path"]), float(entry["timestamp"])
        if not path.endswith("/open"):
            if path.split("/")[-2] in ids:
                found.append(entry)
            continue
        sheet = answer_json(entry).get("sheet")
        if isinstance(sheet, dict):
            if sheet.get("sheet_id") in ids:
                found.append(entry)
            continue
        took = float(entry.get("duration_ms") or 0) / 1000
        opened = any(at - 0.05 <= s.opened_at <= at + took + 0.05 for s in subject.sheets)
        refused = failure(entry) is not None and placed <= at < until  # no package: nothing names the order
        if opened or refused:
            found.append(entry)
    return found


def prepay_of(entry: Mapping[str, Any]) -> str:
    """The prepay_id a pay sheet call names: `prepay_id` (a confirmation), `package=prepay_id=…` (opening), or ''."""
    given = values(entry)
    if given.get("prepay_id"):
        return str(given["prepay_id"])
    package = str(given.get("package") or "")
    return package.removeprefix("prepay_id=") if package.startswith("prepay_id=") else ""


# -- the diagram ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """One arrow drawn: a journal entry (or a notification attempt), what was asked and answered, why it failed."""

    at: float
    label: str
    ok: bool
    explanation: str = ""
    request: str = ""
    answer: str = ""
    notes: tuple[str, ...] = ()
    rid: str = ""
    earlier: bool = False
    """Made before this sign-in and still in use (the merchant's cached access_token or ticket)."""


@dataclass(frozen=True)
class Row:
    arrow: Arrow
    messages: list[Message]
    hidden: int = 0

    @property
    def state(self) -> str:
        """`failed` (the latest message failed), `done`, `skipped` (optional, not needed) or `pending`."""
        if not self.messages:
            return "skipped" if self.arrow.optional else "pending"
        return "done" if self.messages[-1].ok else "failed"

    @property
    def columns(self) -> tuple[int, int]:
        """The diagram columns the arrow spans (1-based, end exclusive)."""
        low, high = sorted((self.arrow.source, self.arrow.target))
        return int(low), int(high) + 1

    @property
    def inset(self) -> float:
        """How far (in % of its span) the arrow starts and ends inside it: at the lifelines, mid-column."""
        low, high = self.columns
        return round(50 / (high - low), 3)


@dataclass(frozen=True)
class Flow:
    subject: Subject
    rows: list[Row]

    @property
    def failed(self) -> Row | None:
        """The first row that failed, in the order the flow runs."""
        return next((r for r in self.rows if r.state == "failed"), None)

    @property
    def reached(self) -> int:
        return sum(1 for r in self.rows if r.messages)


def request_text(entry: Mapping[str, Any]) -> str:
    lines = [f"{entry.get('method')} {entry.get('path')}"]
    lines += [f"{k}={v}" for k, v in (entry.get("query") or {}).items()]
    lines += [f"{k}: {v}" for k, v in (entry.get("fields") or {}).items()]
    return "\n".join(lines)


def message(arrow: Arrow, entry: Mapping[str, Any]) -> Message:
    why = failure(entry)
    status = f"{entry.get('status')}" + (f" {entry['error']} ({entry.get('errcode')})" if entry.get("error") else "")
    if arrow.key == "code":
        denied = any("denied" in str(n) for n in entry.get("notes") or ())
        label = "302 → redirect_uri?" + ("state=STATE (denied)" if denied else "code=CODE&state=STATE")
    elif arrow.key == "config":
        label = f"wx.config on {bridge_call(entry)[1]} → {err_msg(entry) or status}"
    elif arrow.key == "pay":
        what = SHEET_STEPS.get(str(entry.get("path", "")).rsplit("/", 1)[-1], str(entry.get("path")))
        label = f"{what} → {err_msg(entry) or status}"
    else:
        label = f"{entry.get('method')} {entry.get('path')} → {status}"
    return Message(
        at=float(entry["timestamp"]),
        label=label,
        ok=why is None,
        explanation=why or "",
        request=request_text(entry),
        answer=str(entry.get("answer") or ""),
        notes=tuple(str(n) for n in entry.get("notes") or ()),
        rid=str(entry.get("rid", "")),
        earlier=bool(entry.get("earlier")),
    )


def attempts_of(notifications: Iterable[Mapping[str, Any]]) -> list[Message]:
    """Each delivery attempt of the order's payment notifications, as WeChat → merchant messages."""
    found = []
    for note in notifications:
        if note.get("kind") != "payment":
            continue
        copy = f" ({note['note']})" if note.get("note") else ""
        for attempt in note.get("attempts") or ():
            ok = bool(attempt.get("ok"))
            answer = f"HTTP {attempt.get('status') or 'no answer'}\n{attempt.get('body') or ''}".rstrip()
            found.append(
                Message(
                    at=float(attempt["at"]),
                    label=f"POST {note.get('notify_url')}{copy}, attempt {attempt.get('number')} → "
                    f"{attempt.get('status') or 'no answer'}",
                    ok=ok,
                    explanation="" if ok else str(attempt.get("verdict") or ""),
                    request=str(note.get("body") or ""),
                    answer=answer,
                    notes=(str(attempt.get("verdict") or ""),),
                )
            )
    return sorted(found, key=lambda m: m.at)


def build_flow(entries: Sequence[Mapping[str, Any]], subject: Subject, now: float) -> Flow:
    """The diagram of the subject: every arrow, with its messages (the latest `SHOWN`), oldest first."""
    chosen = select(entries, subject, now)
    rows = []
    for arrow in ARROWS:
        if arrow.key == "notify":
            messages = attempts_of(subject.notifications)
        else:
            messages = [message(arrow, e) for e in chosen[arrow.key]]
        rows.append(Row(arrow, messages[-SHOWN:], max(0, len(messages) - SHOWN)))
    return Flow(subject, rows)

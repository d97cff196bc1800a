"""CLI commands against a running sandbox (`status`, `orders`, `pay`, `tail`…): its control API over HTTP."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import quote, urlencode

if TYPE_CHECKING:
    from urllib.error import HTTPError

URL_ENV = "WECHAT_SANDBOX_URL"
DEFAULT_URL = "http://127.0.0.1:8600"
TIMEOUT = 10.0
TAIL_EVERY = 0.2
"""Seconds between two looks at the journal while following it."""
OUTCOMES = ("success", "notenough", "fail")
TAMPERS = ("sign", "amount", "ciphertext")
COMMANDS = (
    "status",
    "users",
    "orders",
    "order",
    "pay",
    "close",
    "refund",
    "notifications",
    "resend",
    "clock",
    "reset",
    "journal",
    "tail",
    "export",
    "import",
)
UNITS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86_400, "w": 604_800}
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d|w)?", re.IGNORECASE)


class Failed(Exception):
    """A command that cannot be done; the message says what to do."""


def parse_duration(text: str) -> float:
    """`2h`, `15s`, `5min`, `1d`, `1h30m`, `90` (seconds) → seconds."""
    compact = text.strip().replace(" ", "")
    total, at = 0.0, 0
    while at < len(compact):
        match = _DURATION.match(compact, at)
        if match is None or match.end() == at:
            raise argparse.ArgumentTypeError(f"not a duration: {text!r} (say 15s, 5min, 2h, 1d or 1h30m)")
        total += float(match[1]) * UNITS[(match[2] or "s").lower()]
        at = match.end()
    if not compact:
        raise argparse.ArgumentTypeError("a duration is needed (15s, 5min, 2h, 1d)")
    return total


class Client:
    """The control API of the sandbox at `url`."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")

    def call(self, method: str, path: str, body: dict[str, Any] | None = None) -> Any:
        import urllib.error  # imported here: `wechat-sandbox serve` never pays for urllib's imports
        import urllib.request

        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 - the sandbox's URL, as the user gave it
            self.url + path, data=data, method=method, headers={"Content-Type": "application/json"}
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:  # noqa: S310
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            raise Failed(_refusal(exc)) from None
        except (urllib.error.URLError, ConnectionError, TimeoutError) as exc:
            reason = getattr(exc, "reason", exc)
            raise Failed(
                f"no sandbox running at {self.url} ({reason}); start one with `wechat-sandbox serve` "
                f"(or `make demo`), or point --url / ${URL_ENV} at yours"
            ) from None
        except json.JSONDecodeError:
            raise Failed(
                f"{self.url} answered {path} with something that is not JSON: is it a wechat-sandbox?"
            ) from None


def _refusal(exc: HTTPError) -> str:
    text = exc.read().decode("utf-8", "replace")
    try:
        body = json.loads(text)
    except json.JSONDecodeError:
        return f"{exc.code}: {text[:300]}"
    if isinstance(body, dict) and "error" in body:
        extra = f" ({body['diagnostic']})" if body.get("diagnostic") else ""
        return f"{body['error']}{extra}"
    return f"{exc.code}: {text[:300]}"


# -- output -----------------------------------------------------------------------------------------------


class Out:
    """Where a command prints: JSON for scripts, aligned text (coloured on a terminal) for people."""

    def __init__(self, stream: TextIO, as_json: bool, colour: bool) -> None:
        self.stream = stream
        self.as_json = as_json
        self.colour = colour

    def json(self, value: Any) -> None:
        self.stream.write(json.dumps(value, ensure_ascii=False, indent=2) + "\n")

    def line(self, text: str = "") -> None:
        self.stream.write(text + "\n")
        self.stream.flush()

    def paint(self, text: str, colour: str) -> str:
        codes = {"red": "31", "green": "32", "yellow": "33", "dim": "2", "bold": "1"}
        return f"\x1b[{codes[colour]}m{text}\x1b[0m" if self.colour else text

    def table(self, headers: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
        cells = [[_cell(v) for v in row] for row in rows]
        if not cells:
            self.line("(none)")
            return
        widths = [max(len(h), *(_width(r[i]) for r in cells)) for i, h in enumerate(headers)]
        self.line("  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip())
        for row in cells:
            self.line("  ".join(c + " " * (w - _width(c)) for c, w in zip(row, widths, strict=True)).rstrip())


def _cell(value: Any) -> str:
    return "-" if value is None or value == "" else str(value)


def _width(text: str) -> int:
    """Columns on a terminal: CJK characters take two."""
    return sum(2 if "\u2e80" <= ch <= "\uffef" else 1 for ch in text)


def when(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    try:
        return datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d %H:%M:%S")
    except (OverflowError, OSError, ValueError):
        return f"{timestamp} s"


def yuan(fen: int) -> str:
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{whole}.{cents:02d}"


# -- commands ---------------------------------------------------------------------------------------------


def _mch(client: Client, args: argparse.Namespace) -> str:
    if args.mch_id:
        return str(args.mch_id)
    merchants = client.call("GET", "/_sandbox/api/config")["merchants"]
    return str(merchants[0]["mch_id"])


def _order_path(client: Client, args: argparse.Namespace, action: str = "") -> str:
    return f"/_sandbox/api/orders/{quote(_mch(client, args), safe='')}/{quote(args.out_trade_no, safe='')}{action}"


def status(client: Client, args: argparse.Namespace, out: Out) -> None:
    health = client.call("GET", "/_sandbox/api/health")
    clock = client.call("GET", "/_sandbox/api/clock")
    if out.as_json:
        out.json({**health, "clock": clock})
        return
    out.line(f"wechat-sandbox {health['version']} at {client.url}: {out.paint(health['status'], 'green')}")
    out.line(f"  up {health['uptime']:.1f} s; sandbox time {when(clock['now'])} UTC (offset {clock['offset']:.0f} s)")
    out.line(f"  proxy for WeChat's hosts: HTTPS_PROXY={client.url}")
    out.line(f"  TLS: {health.get('tls_url') or 'not served (serve --tls-port N)'}")
    if health.get("ca_certificate"):
        out.line(f"  CA certificate: {health['ca_certificate']}")


def users(client: Client, args: argparse.Namespace, out: Out) -> None:
    found = client.call("GET", "/_sandbox/api/users")["users"]
    if out.as_json:
        out.json(found)
        return
    rows = [
        (u["id"], u["nickname"], yuan(u["balance"]), u["pin"], next(iter(u["openids"].values()), "")) for u in found
    ]
    out.table(("id", "nickname", "balance", "pin", "openid"), rows)


def orders(client: Client, args: argparse.Namespace, out: Out) -> None:
    query = {k: v for k, v in (("state", args.state), ("mch_id", args.mch_id), ("payer", args.payer)) if v}
    found = client.call("GET", "/_sandbox/api/orders" + (f"?{urlencode(query)}" if query else ""))["orders"]
    if out.as_json:
        out.json(found)
        return
    rows = [
        (
            when(o["created_at"]),
            o["mch_id"],
            o["out_trade_no"],
            yuan(o["total_fee"]),
            _state(out, o),
            o["user"],
            o["api"],
        )
        for o in found
    ]
    out.table(("created", "mch_id", "out_trade_no", "amount", "state", "payer", "api"), rows)


def _state(out: Out, order: dict[str, Any]) -> str:
    state = str(order["trade_state"])
    return out.paint(state, {"SUCCESS": "green", "REFUND": "yellow", "PAYERROR": "red"}.get(state, "dim"))


def order(client: Client, args: argparse.Namespace, out: Out) -> None:
    found = client.call("GET", _order_path(client, args))
    notes = client.call("GET", "/_sandbox/api/notifications?" + urlencode({"out_trade_no": args.out_trade_no}))
    found["notifications"] = [n for n in notes["notifications"] if n["mch_id"] == found["mch_id"]]
    if out.as_json:
        out.json(found)
        return
    _show_order(out, found)
    if found["refunds"]:
        out.line("refunds:")
        for r in found["refunds"]:
            out.line(f"  {r['out_refund_no']}  {yuan(r['refund_fee'])}  {r['status']}  {r['refund_id']}")
    if found["notifications"]:
        out.line("notifications:")
        for n in found["notifications"]:
            out.line(f"  {n['id']}  {n['kind']}  {n['status']}  {len(n['attempts'])} attempt(s)  → {n['notify_url']}")


def _show_order(out: Out, found: dict[str, Any]) -> None:
    out.line(
        f"{found['out_trade_no']}  {_state(out, found)}  {yuan(found['total_fee'])}  ({found['trade_state_desc']})"
    )
    for name in ("mch_id", "appid", "trade_type", "api", "user", "openid", "transaction_id", "prepay_id", "body"):
        out.line(f"  {name:<15}{_cell(found.get(name))}")
    out.line(f"  {'created':<15}{when(found['created_at'])}")
    if found.get("refunded_fee"):
        out.line(f"  {'refunded':<15}{yuan(found['refunded_fee'])}")


def pay(client: Client, args: argparse.Namespace, out: Out) -> None:
    body: dict[str, Any] = {"outcome": args.outcome}
    if args.user:
        body["user"] = args.user
    paid = client.call("POST", _order_path(client, args, "/pay"), body)
    if out.as_json:
        out.json(paid)
        return
    payer = paid.get("payer") or {}
    out.line(f"paid {paid['out_trade_no']}: {_state(out, paid)} {yuan(paid['total_fee'])} by {_cell(payer.get('id'))}")
    if paid.get("transaction_id"):
        out.line(f"  transaction_id {paid['transaction_id']}; WeChat notifies {paid['notify_url']}")


def close(client: Client, args: argparse.Namespace, out: Out) -> None:
    closed = client.call("POST", _order_path(client, args, "/close"), {})
    if out.as_json:
        out.json(closed)
        return
    out.line(f"closed {closed['out_trade_no']}: {_state(out, closed)}")


def refund(client: Client, args: argparse.Namespace, out: Out) -> None:
    body: dict[str, Any] = {}
    for name in ("amount", "out_refund_no", "notify_url", "reason"):
        value = getattr(args, name)
        if value is not None:
            body[name] = value
    answer = client.call("POST", _order_path(client, args, "/refund"), body)
    if out.as_json:
        out.json(answer)
        return
    made = answer["refund"]
    out.line(
        f"refunded {yuan(made['refund_fee'])} of {answer['out_trade_no']} as {made['out_refund_no']} "
        f"({made['refund_id']}, {made['status']}); {yuan(answer['refunded_fee'])} of {yuan(answer['total_fee'])} "
        "refunded in all"
    )


def notifications(client: Client, args: argparse.Namespace, out: Out) -> None:
    query = f"?{urlencode({'out_trade_no': args.out_trade_no})}" if args.out_trade_no else ""
    found = client.call("GET", "/_sandbox/api/notifications" + query)["notifications"]
    if out.as_json:
        out.json(found)
        return
    rows = []
    for n in found:
        last = n["attempts"][-1] if n["attempts"] else {}
        verdict = str(last.get("verdict") or "-")
        verdict = verdict if len(verdict) <= 48 else verdict[:47] + "…"
        rows.append(
            (n["id"], n["kind"], n["out_trade_no"], n["status"], len(n["attempts"]), verdict, when(n["next_at"]))
        )
    out.table(("id", "kind", "out_trade_no", "status", "attempts", "last verdict", "next attempt"), rows)


def resend(client: Client, args: argparse.Namespace, out: Out) -> None:
    body: dict[str, Any] = {"duplicate": args.duplicate}
    if args.tamper:
        body["tamper"] = args.tamper
    copies = client.call("POST", f"/_sandbox/api/notifications/{quote(args.id, safe='')}/resend", body)
    if out.as_json:
        out.json(copies["notifications"])
        return
    for n in copies["notifications"]:
        out.line(f"queued {n['id']} ({n['kind']} of {n['out_trade_no']}{', ' + n['note'] if n['note'] else ''})")


def clock(client: Client, args: argparse.Namespace, out: Out) -> None:
    if args.action == "advance":
        if args.duration is None:
            raise Failed("clock advance needs a duration: 15s, 5min, 2h, 1d, 30d")
        now = client.call("POST", "/_sandbox/api/clock", {"advance": args.duration})
    else:
        now = client.call("GET", "/_sandbox/api/clock")
    if out.as_json:
        out.json(now)
        return
    out.line(f"sandbox time {when(now['now'])} UTC (offset {now['offset']:.0f} s)")


def reset(client: Client, args: argparse.Namespace, out: Out) -> None:
    answer = client.call("POST", "/_sandbox/api/reset", {})
    if out.as_json:
        out.json(answer)
        return
    out.line(f"reset {client.url}: users, orders, notifications and the clock are as configured")


def _matches(entry: dict[str, Any], args: argparse.Namespace) -> bool:
    values = {**entry.get("query", {}), **entry.get("fields", {})}
    for name in ("appid", "openid", "out_trade_no"):
        wanted = getattr(args, name, None)
        if wanted and values.get(name) != wanted:
            return False
    if getattr(args, "path", None) and args.path not in entry["path"]:
        return False
    return not (getattr(args, "errors", False) and not entry.get("error"))


def _show_entry(out: Out, entry: dict[str, Any]) -> None:
    failed = bool(entry.get("error"))
    mark = out.paint(f"{entry['status']}", "red" if failed or entry["status"] >= 400 else "green")
    code = f" {entry['error']} ({entry['errcode']})" if failed else ""
    out.line(
        f"{entry['time'][11:23]} {mark} {entry['method']} {entry['path']}{out.paint(code, 'red')}  rid {entry['rid']}"
    )
    if entry.get("diagnostic"):
        out.line("    " + out.paint(str(entry["diagnostic"]), "yellow"))
    for note in entry.get("notes") or []:
        out.line("    " + out.paint(f"note: {note}", "yellow"))


def journal(client: Client, args: argparse.Namespace, out: Out) -> None:
    entries = client.call("GET", f"/_sandbox/api/journal?last={args.limit}")["entries"]
    found = [e for e in entries if _matches(e, args)]
    if out.as_json:
        out.json(found)
        return
    for entry in found:
        _show_entry(out, entry)
    if not found:
        out.line("(no entries)")


def tail(client: Client, args: argparse.Namespace, out: Out, sleep: Callable[[float], None] = time.sleep) -> None:
    """Follow the journal: what is there (the last `--lines`), then each new entry as it is written."""
    entries = client.call("GET", "/_sandbox/api/journal?last=1000")["entries"]
    after = entries[-1]["id"] if entries else 0
    for entry in [e for e in entries if _matches(e, args)][-args.lines :] if args.lines > 0 else []:
        _emit(out, entry)
    seen = 0
    while args.count is None or seen < args.count:
        sleep(TAIL_EVERY)
        for entry in client.call("GET", f"/_sandbox/api/journal?after={after}&limit=1000")["entries"]:
            after = entry["id"]
            if _matches(entry, args):
                _emit(out, entry)
                seen += 1


def export(client: Client, args: argparse.Namespace, out: Out) -> None:
    """The world as a state document: on stdout, or written atomically to `--output`."""
    from sandbox.scenario import write_atomically

    document = client.call("GET", "/_sandbox/api/state")
    if args.output is None:
        out.json(document)
        return
    try:
        write_atomically(args.output, document)
    except OSError as exc:
        raise Failed(f"cannot write {args.output}: {exc.strerror}") from None
    print(f"exported {len(document['records'])} records to {args.output}", file=sys.stderr)


def import_(client: Client, args: argparse.Namespace, out: Out) -> None:
    from mock_wechat import json_input

    try:
        document = json_input.loads(args.file.read_bytes())
    except OSError as exc:
        raise Failed(f"cannot read {args.file}: {exc.strerror}") from None
    except json_input.BadJson as exc:
        raise Failed(f"{args.file} is not a JSON state document: {exc}") from None
    answer = client.call("POST", "/_sandbox/api/state", document)
    if out.as_json:
        out.json(answer)
        return
    counts = ", ".join(f"{n} {kind}" for kind, n in sorted(answer["imported"].items())) or "nothing"
    out.line(f"imported {args.file} into {client.url}: {counts}")


def _emit(out: Out, entry: dict[str, Any]) -> None:
    if out.as_json:
        out.line(json.dumps(entry, ensure_ascii=False))
    else:
        _show_entry(out, entry)


# -- the parser -------------------------------------------------------------------------------------------


def add_commands(commands: Any) -> None:
    """Add the commands that drive a running sandbox to `wechat-sandbox`'s subparsers."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--url", help=f"the running sandbox (default ${URL_ENV} or {DEFAULT_URL})")
    common.add_argument("--json", action="store_true", default=None, help="print JSON (for scripts)")

    def add(name: str, text: str) -> argparse.ArgumentParser:
        sub: argparse.ArgumentParser = commands.add_parser(name, help=text, description=text, parents=[common])
        return sub

    add("status", "is the sandbox up: version, uptime, clock, proxy, TLS")
    add("users", "the sandbox's users: balances, PINs, openids")
    sub = add("orders", "orders, oldest first")
    sub.add_argument("--state", help="SUCCESS, NOTPAY, CLOSED, REFUND, PAYERROR, …")
    sub.add_argument("--mch-id", help="one merchant's")
    sub.add_argument("--payer", help="a user id or openid")
    for name, text in (
        ("order", "one order, its refunds and notifications"),
        ("pay", "the payer pays the order as on the pay sheet (WeChat then notifies)"),
        ("close", "close an unpaid order"),
        ("refund", "refund a paid order, in part or all"),
    ):
        sub = add(name, text)
        sub.add_argument("out_trade_no")
        sub.add_argument("--mch-id", help="the merchant (default: the first configured)")
        if name == "pay":
            sub.add_argument("--outcome", choices=OUTCOMES, default="success", help="how the payment ends")
            sub.add_argument("--user", help="the payer (default: the order's openid's owner)")
        if name == "refund":
            sub.add_argument("--amount", type=int, help="fen to refund (default: all that is left)")
            sub.add_argument("--out-refund-no", help="the merchant's refund number (default: made up)")
            sub.add_argument("--notify-url", help="where WeChat sends the refund notification (default: none)")
            sub.add_argument("--reason", help="refund_desc")
    sub = add("notifications", "WeChat's notifications and their delivery attempts")
    sub.add_argument("--out-trade-no", help="one order's")
    sub = add("resend", "send a notification again")
    sub.add_argument("id", help="the notification id (see `notifications`)")
    sub.add_argument("--duplicate", action="store_true", help="send two copies, as WeChat sometimes does")
    sub.add_argument("--tamper", choices=TAMPERS, help="send a forgery the merchant must refuse")
    sub = add("clock", "the sandbox time; `clock advance 2h` moves it (expiries, notification retries)")
    sub.add_argument("action", nargs="?", choices=("show", "advance"), default="show")
    sub.add_argument("duration", nargs="?", type=parse_duration, help="15s, 5min, 2h, 1d, 30d, 1h30m")
    add("reset", "back to the configured start: users, orders, notifications, the clock")
    for name, text in (("journal", "the journal of emulated calls"), ("tail", "follow the journal live")):
        sub = add(name, text)
        sub.add_argument("--appid")
        sub.add_argument("--openid")
        sub.add_argument("--out-trade-no")
        sub.add_argument("--path", help="entries whose path contains this")
        sub.add_argument("--errors", action="store_true", help="only calls that got an error")
        if name == "journal":
            sub.add_argument("--limit", type=int, default=1000, help="read the last N entries (default 1000)")
        else:
            sub.add_argument("--lines", type=int, default=10, help="show the last N entries first (default 10)")
            sub.add_argument("--count", type=int, help=argparse.SUPPRESS)  # stop after N new entries (tests)
    sub = add("export", "the whole world (users, orders, notifications, clock, settings) as a JSON state document")
    sub.add_argument("-o", "--output", type=Path, help="write it here, atomically (default: stdout)")
    sub = add("import", "replace the world with a state document from `export`")
    sub.add_argument("file", type=Path)


HANDLERS: dict[str, Callable[[Client, argparse.Namespace, Out], None]] = {
    "status": status,
    "users": users,
    "orders": orders,
    "order": order,
    "pay": pay,
    "close": close,
    "refund": refund,
    "notifications": notifications,
    "resend": resend,
    "clock": clock,
    "reset": reset,
    "journal": journal,
    "tail": tail,
    "export": export,
    "import": import_,
}


def add_top_options(top: argparse.ArgumentParser) -> None:
    """`--url` and `--json` before the command too (`wechat-sandbox --url URL orders`)."""
    top.add_argument("--url", dest="top_url", metavar="URL", help=f"a running sandbox's URL (default ${URL_ENV})")
    top.add_argument("--json", dest="top_json", action="store_true", help="commands print JSON")


def run(args: argparse.Namespace, stream: TextIO | None = None) -> int:
    stream = stream if stream is not None else sys.stdout
    url = args.url or getattr(args, "top_url", None) or os.environ.get(URL_ENV) or DEFAULT_URL
    args.json = bool(args.json or getattr(args, "top_json", False))
    colour = stream.isatty() and not os.environ.get("NO_COLOR") and not args.json
    out = Out(stream, args.json, colour)
    try:
        HANDLERS[args.command](Client(url), args, out)
    except Failed as exc:
        print(f"wechat-sandbox {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    return 0

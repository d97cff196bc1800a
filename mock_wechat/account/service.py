"""The account service: one Official Account's state in the store, driven by the rules modules."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from mock_wechat import errors
from mock_wechat.account import oauth, tokens
from mock_wechat.account.oauth import Consent, OAuthCode, RefreshToken, WebToken
from mock_wechat.account.tokens import AccessToken, Ticket, TokenKind
from mock_wechat.clock import Clock
from mock_wechat.config import Account, User, WeChatConfig
from mock_wechat.ids import Ids, openid_for
from mock_wechat.store import Pointer, Store, Table

RETAIN = 86_400
"""Expired records are kept a day so late callers get 42001/40163 rather than "never issued"."""


@dataclass(frozen=True)
class History:
    times: list[float] = field(default_factory=list)


class AccountService:
    """Credentials, tokens, tickets, OAuth codes, web tokens, consents and users."""

    def __init__(self, config: WeChatConfig, store: Store, clock: Clock, ids: Ids) -> None:
        self.config, self.store, self.clock, self.ids = config, store, clock, ids
        self._openids: dict[tuple[str, str], str] = {}
        self.tokens = Table(store, AccessToken, "access_token")
        self.tickets = Table(store, Ticket, "ticket")
        self.codes = Table(store, OAuthCode, "oauth_code")
        self.web_tokens = Table(store, WebToken, "web_token")
        self.refresh_tokens = Table(store, RefreshToken, "refresh_token")
        self.consents = Table(store, Consent, "consent")
        self.users = Table(store, User, "user")
        self.pointers = Table(store, Pointer, "pointer")
        self.histories = Table(store, History, "history")

    # -- credentials --------------------------------------------------------------------------------

    def account(self, appid: str) -> Account:
        if not appid:
            raise errors.AppidMissing("the appid parameter is missing")
        account = self.config.account(appid)
        if account is None:
            known = ", ".join(a.appid for a in self.config.accounts)
            raise errors.InvalidAppid(f"appid {appid!r} is not configured; configured: {known}")
        return account

    def authenticate(self, appid: str, secret: str) -> Account:
        account = self.account(appid)
        if not secret:
            raise errors.AppsecretMissing("the secret parameter is missing")
        if secret != account.secret:
            raise errors.InvalidAppsecret(
                f"secret does not match appid {appid} (see GET /_sandbox/api/config for the configured one)"
            )
        return account

    # -- base access token and tickets --------------------------------------------------------------

    def token(self, grant_type: str, appid: str, secret: str) -> AccessToken:
        """`/cgi-bin/token`: a new token each call; the previous one keeps working 5 minutes."""
        self._check_grant(grant_type, "client_credential")
        self.authenticate(appid, secret)
        now = self.clock.now()
        key = f"token:{appid}"
        pointer = self.pointers.get(key)
        previous = self.tokens.get(pointer.value) if pointer else None
        with self.store.transaction():
            if previous is not None and previous.valid(now):
                self._save_token(tokens.supersede(previous, now))
            token = tokens.new_token(self.ids.token(), appid, TokenKind.TOKEN, now)
            self._save_token(token)
            self.pointers.put(key, appid, Pointer(token.access_token))
        return token

    def stable_token(self, grant_type: str, appid: str, secret: str, force_refresh: bool) -> AccessToken:
        """`/cgi-bin/stable_token`: the same token while valid; force_refresh rolls it at once."""
        self._check_grant(grant_type, "client_credential")
        self.authenticate(appid, secret)
        now = self.clock.now()
        key = f"stable:{appid}"
        pointer = self.pointers.get(key)
        current = self.tokens.get(pointer.value) if pointer else None
        with self.store.transaction():
            if force_refresh:
                history = self.histories.get(key) or History()
                tokens.check_force_refresh(history.times, now)
                self.histories.put(key, appid, History([t for t in history.times if now - t < tokens.DAY] + [now]))
                if current is not None and current.valid(now):
                    self._save_token(tokens.supersede(current, now, grace=0))
            else:
                reusable = tokens.reusable_stable(current, now)
                if reusable is not None:
                    return reusable
            token = tokens.new_token(self.ids.token(), appid, TokenKind.STABLE, now)
            self._save_token(token)
            self.pointers.put(key, appid, Pointer(token.access_token))
        return token

    def check_token(self, access_token: str) -> AccessToken:
        """The base access token a cgi-bin call presented (either kind)."""
        if not access_token:
            raise errors.AccessTokenMissing("the access_token parameter is missing")
        return tokens.check_token(self.tokens.get(access_token), self.clock.now())

    def getticket(self, access_token: str, type_: str) -> Ticket:
        token = self.check_token(access_token)
        kind = tokens.ticket_type(type_)
        now = self.clock.now()
        key = f"ticket:{kind.value}:{token.appid}"
        pointer = self.pointers.get(key)
        current = tokens.reusable_ticket(self.tickets.get(pointer.value) if pointer else None, now)
        if current is not None:
            return current
        ticket = tokens.new_ticket(self.ids.ticket(), token.appid, kind, now)
        with self.store.transaction():
            self.tickets.put(ticket.ticket, token.appid, ticket, ticket.expires_at + RETAIN)
            self.pointers.put(key, token.appid, Pointer(ticket.ticket))
        return ticket

    def valid_tickets(self, appid: str, type_: str = "jsapi") -> list[Ticket]:
        """Every ticket a page may still sign with (the current one and any not yet expired)."""
        now = self.clock.now()
        found = [t for t in self.tickets.query(appid) if t.type == type_ and now < t.expires_at]
        return sorted(found, key=lambda t: t.issued_at, reverse=True)

    # -- web authorization --------------------------------------------------------------------------

    def issue_code(self, account: Account, user: User, scopes: tuple[oauth.Scope, ...]) -> OAuthCode:
        now = self.clock.now()
        code = OAuthCode(
            code=self.ids.code(),
            appid=account.appid,
            user_id=user.id,
            openid=openid_for(account.appid, user.id),
            scope=",".join(s.value for s in scopes),
            issued_at=now,
        )
        self.codes.put(code.code, account.appid, code, now + oauth.CODE_TTL + RETAIN)
        return code

    def exchange(self, appid: str, secret: str, code: str, grant_type: str) -> tuple[WebToken, User | None]:
        """`/sns/oauth2/access_token`: code → web access_token + refresh_token."""
        self.authenticate(appid, secret)
        if not code:
            raise errors.CodeMissing("the code parameter is missing")
        self._check_grant(grant_type, "authorization_code")
        now = self.clock.now()
        with self.store.transaction():
            redeemed = oauth.redeem(self.codes.get(code), appid, now)
            self.codes.put(code, appid, redeemed, now + RETAIN)
            refresh = RefreshToken(
                self.ids.token(), appid, redeemed.user_id, redeemed.openid, redeemed.scope, now + oauth.REFRESH_TTL
            )
            self.refresh_tokens.put(refresh.refresh_token, appid, refresh, refresh.expires_at + RETAIN)
            web = self._new_web_token(refresh, now)
        return web, self.users.get(redeemed.user_id)

    def refresh(self, appid: str, grant_type: str, refresh_token: str) -> WebToken:
        """`/sns/oauth2/refresh_token`: a new web access_token; the refresh_token keeps its 30 days."""
        self.account(appid)
        self._check_grant(grant_type, "refresh_token")
        if not refresh_token:
            raise errors.RefreshTokenMissing("the refresh_token parameter is missing")
        now = self.clock.now()
        record = oauth.check_refresh(self.refresh_tokens.get(refresh_token), appid, now)
        return self._new_web_token(record, now)

    def web_token(self, access_token: str, openid: str) -> WebToken:
        """The web token of `/sns/userinfo` and `/sns/auth`, checked against the openid."""
        if not access_token:
            raise errors.AccessTokenMissing("the access_token parameter is missing")
        token = oauth.check_web_token(self.web_tokens.get(access_token), self.clock.now())
        if not openid:
            raise errors.OpenidMissing("the openid parameter is missing")
        oauth.check_openid(token, openid)
        return token

    def userinfo(self, access_token: str, openid: str) -> tuple[WebToken, User]:
        token = self.web_token(access_token, openid)
        oauth.check_userinfo_scope(token)
        user = self.users.get(token.user_id)
        if user is None:
            raise errors.InvalidOpenid(f"user {token.user_id} no longer exists in the sandbox (reset?)")
        return token, user

    def has_consent(self, appid: str, user_id: str) -> bool:
        return self.consents.get(f"{appid}:{user_id}") is not None

    def grant_consent(self, appid: str, user_id: str) -> None:
        self.consents.put(f"{appid}:{user_id}", appid, Consent(appid, user_id, self.clock.now()))

    def consents_of(self, user_id: str) -> list[Consent]:
        return [c for c in self.consents.query() if c.user_id == user_id]

    def forget_consents(self, user_id: str) -> list[str]:
        """The user is asked again by every app (snsapi_userinfo); the appids that had consent."""
        forgotten = self.consents_of(user_id)
        with self.store.transaction():
            for consent in forgotten:
                self.consents.delete(f"{consent.appid}:{user_id}")
        return [c.appid for c in forgotten]

    # -- users --------------------------------------------------------------------------------------

    def user(self, user_id: str) -> User | None:
        return self.users.get(user_id)

    def all_users(self) -> list[User]:
        return self.users.query()

    def user_by_openid(self, appid: str, openid: str) -> User | None:
        """The user whose openid under `appid` is `openid`. An openid is a hash of (appid, user id), so a found
        pair stays true: it is remembered, and only the user's existence is read again (a reset removes users)."""
        known = self._openids.get((appid, openid))
        if known is not None:
            user = self.users.get(known)
            if user is not None:
                return user
        for user in self.all_users():
            self._openids[(appid, openid_for(appid, user.id))] = user.id
            if openid_for(appid, user.id) == openid:
                return user
        return None

    def put_user(self, user: User) -> None:
        self.users.put(user.id, "", user)

    def seed_users(self) -> None:
        """Write the configured users into the store (config wins; users added at run time stay).

        A wallet is state, not configuration: money paid or refunded before a restart stays moved.
        """
        with self.store.transaction():
            for user in self.config.users:
                stored = self.user(user.id)
                self.put_user(user if stored is None else replace(user, balance=stored.balance))

    # -- helpers ------------------------------------------------------------------------------------

    def _check_grant(self, grant_type: str, expected: str) -> None:
        if grant_type != expected:
            raise errors.InvalidGrantType(f"grant_type must be {expected!r}, got {grant_type!r}")

    def _save_token(self, token: AccessToken) -> None:
        end = token.expires_at if token.superseded_until is None else min(token.expires_at, token.superseded_until)
        self.tokens.put(token.access_token, token.appid, token, end + RETAIN)

    def _new_web_token(self, refresh: RefreshToken, now: float) -> WebToken:
        web = WebToken(
            self.ids.token(),
            refresh.appid,
            refresh.user_id,
            refresh.openid,
            refresh.scope,
            now + oauth.WEB_TOKEN_TTL,
            refresh.refresh_token,
        )
        self.web_tokens.put(web.access_token, refresh.appid, web, web.expires_at + RETAIN)
        return web

"""Rules of base access tokens, stable-token force refresh and jsapi tickets, without HTTP."""

from __future__ import annotations

import pytest

from mock_wechat import errors
from mock_wechat.account import tokens
from mock_wechat.account.tokens import AccessToken, Ticket, TicketType, TokenKind

T0 = 1_700_000_000.0


def token(issued_at: float = T0, superseded_until: float | None = None) -> AccessToken:
    return AccessToken("tok", "wxA", TokenKind.TOKEN.value, issued_at, issued_at + 7200, superseded_until)


def ticket(issued_at: float = T0) -> Ticket:
    return tokens.new_ticket("tkt", "wxA", TicketType.JSAPI, issued_at)


# -- constants ---------------------------------------------------------------------------------------


def test_lifetimes_and_limits_match_the_protocol() -> None:
    assert (tokens.TOKEN_TTL, tokens.GRACE) == (7200, 300)
    assert (tokens.FORCE_REFRESH_PER_DAY, tokens.FORCE_REFRESH_SPACING, tokens.DAY) == (20, 30, 86_400)


# -- new_token / expires_in / valid ------------------------------------------------------------------


def test_new_token_lives_7200_seconds() -> None:
    issued = tokens.new_token("tok", "wxA", TokenKind.STABLE, T0)
    assert issued == AccessToken("tok", "wxA", "stable", T0, T0 + 7200, None)


def test_expires_in_counts_down_in_whole_seconds() -> None:
    assert token().expires_in(T0 + 100.7) == 7099


def test_expires_in_never_goes_negative() -> None:
    assert token().expires_in(T0 + 10_000) == 0


def test_token_is_valid_until_just_before_expiry() -> None:
    assert token().valid(T0 + 7199.999)
    assert not token().valid(T0 + 7200)


def test_superseded_token_is_valid_until_its_overlap_ends() -> None:
    old = token(superseded_until=T0 + 500)
    assert old.valid(T0 + 499)
    assert not old.valid(T0 + 500)


# -- supersede ---------------------------------------------------------------------------------------


def test_supersede_gives_a_five_minute_overlap() -> None:
    assert tokens.supersede(token(), T0 + 100).superseded_until == T0 + 400


def test_supersede_with_zero_grace_ends_it_now() -> None:
    assert tokens.supersede(token(), T0 + 100, grace=0).superseded_until == T0 + 100


def test_supersede_never_extends_an_existing_overlap() -> None:
    old = tokens.supersede(token(), T0 + 100)
    assert tokens.supersede(old, T0 + 200).superseded_until == T0 + 400


def test_supersede_never_outlives_the_token() -> None:
    assert tokens.supersede(token(), T0 + 7000).superseded_until == T0 + 7200


def test_supersede_keeps_every_other_field() -> None:
    old = token()
    new = tokens.supersede(old, T0 + 100)
    assert (new.access_token, new.appid, new.kind, new.issued_at, new.expires_at) == (
        old.access_token,
        old.appid,
        old.kind,
        old.issued_at,
        old.expires_at,
    )


# -- check_token -------------------------------------------------------------------------------------


def test_check_token_returns_a_valid_token() -> None:
    assert tokens.check_token(token(), T0 + 1) == token()


def test_check_token_of_unknown_token_is_invalid_credential() -> None:
    with pytest.raises(errors.InvalidCredential):
        tokens.check_token(None, T0)


def test_check_token_after_overlap_is_invalid_credential() -> None:
    with pytest.raises(errors.InvalidCredential):
        tokens.check_token(token(superseded_until=T0 + 300), T0 + 300)


def test_check_token_within_overlap_is_accepted() -> None:
    old = token(superseded_until=T0 + 300)
    assert tokens.check_token(old, T0 + 299) == old


def test_check_token_after_expiry_is_access_token_expired() -> None:
    with pytest.raises(errors.AccessTokenExpired) as caught:
        tokens.check_token(token(), T0 + 7210)
    assert "expired 10 s ago" in caught.value.diagnostic


def test_check_token_superseded_and_expired_is_invalid_credential() -> None:
    with pytest.raises(errors.InvalidCredential):
        tokens.check_token(token(superseded_until=T0 + 7200), T0 + 7300)


# -- reusable_stable ---------------------------------------------------------------------------------


def test_reusable_stable_without_current_is_none() -> None:
    assert tokens.reusable_stable(None, T0) is None


def test_reusable_stable_returns_the_current_token() -> None:
    assert tokens.reusable_stable(token(), T0 + 6899) == token()


def test_reusable_stable_in_the_last_300_seconds_is_none() -> None:
    assert tokens.reusable_stable(token(), T0 + 6900) is None


def test_reusable_stable_after_expiry_is_none() -> None:
    assert tokens.reusable_stable(token(), T0 + 7200) is None


def test_reusable_stable_of_superseded_token_is_none() -> None:
    assert tokens.reusable_stable(token(superseded_until=T0 + 10), T0 + 10) is None


# -- check_force_refresh -----------------------------------------------------------------------------


def test_first_force_refresh_is_allowed() -> None:
    tokens.check_force_refresh([], T0)


def test_force_refresh_30_seconds_after_the_last_is_allowed() -> None:
    tokens.check_force_refresh([T0], T0 + 30)


def test_force_refresh_within_30_seconds_is_minute_quota_limit() -> None:
    with pytest.raises(errors.MinuteQuotaLimit):
        tokens.check_force_refresh([T0 - 100, T0], T0 + 29)


def test_21st_force_refresh_in_a_day_is_daily_quota_limit() -> None:
    history = [T0 + 30 * i for i in range(20)]
    with pytest.raises(errors.DailyQuotaLimit):
        tokens.check_force_refresh(history, T0 + 30 * 20)


def test_20th_force_refresh_in_a_day_is_allowed() -> None:
    tokens.check_force_refresh([T0 + 30 * i for i in range(19)], T0 + 30 * 19)


def test_force_refreshes_older_than_a_day_do_not_count() -> None:
    history = [T0 + 30 * i for i in range(20)]
    tokens.check_force_refresh(history, T0 + 86_400)


def test_daily_quota_is_reported_before_spacing() -> None:
    history = [T0 + i for i in range(20)]
    with pytest.raises(errors.DailyQuotaLimit):
        tokens.check_force_refresh(history, T0 + 20)


# -- tickets -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "kind"), [("jsapi", TicketType.JSAPI), ("wx_card", TicketType.WX_CARD)])
def test_ticket_type_accepts_jsapi_and_wx_card(value: str, kind: TicketType) -> None:
    assert tokens.ticket_type(value) is kind


@pytest.mark.parametrize("value", ["", "JSAPI", "card", "jsapi "])
def test_ticket_type_rejects_anything_else_as_invalid_args(value: str) -> None:
    with pytest.raises(errors.InvalidArgs):
        tokens.ticket_type(value)


def test_new_ticket_lives_7200_seconds() -> None:
    assert ticket() == Ticket("tkt", "wxA", "jsapi", T0, T0 + 7200)


def test_ticket_expires_in_never_goes_negative() -> None:
    assert ticket().expires_in(T0 + 8000) == 0


def test_reusable_ticket_without_current_is_none() -> None:
    assert tokens.reusable_ticket(None, T0) is None


def test_reusable_ticket_returns_the_current_ticket() -> None:
    assert tokens.reusable_ticket(ticket(), T0 + 6899) == ticket()


def test_reusable_ticket_in_the_last_300_seconds_is_none() -> None:
    assert tokens.reusable_ticket(ticket(), T0 + 6900) is None

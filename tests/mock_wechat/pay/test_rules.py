"""Outcome rules as data: the amounts that force an outcome, documented in one table."""

from __future__ import annotations

import pytest

from mock_wechat.pay import rules
from mock_wechat.pay.rules import Effect


@pytest.mark.parametrize("total_fee", [101, 551])
def test_official_sandbox_amounts_autopay_on_sandbox_paths(total_fee: int) -> None:
    assert rules.effect(total_fee, sandbox=True) == Effect.AUTOPAY


@pytest.mark.parametrize("total_fee", [101, 551])
def test_official_sandbox_amounts_wait_for_the_payer_on_normal_paths(total_fee: int) -> None:
    assert rules.effect(total_fee, sandbox=False) is None


@pytest.mark.parametrize("sandbox", [True, False])
def test_9911_forces_unifiedorder_systemerror_everywhere(sandbox: bool) -> None:
    assert rules.effect(9911, sandbox) == Effect.UNIFIEDORDER_SYSTEMERROR


@pytest.mark.parametrize("sandbox", [True, False])
def test_9921_forces_notenough_everywhere(sandbox: bool) -> None:
    assert rules.effect(9921, sandbox) == Effect.PAY_NOTENOUGH


@pytest.mark.parametrize("sandbox", [True, False])
def test_9931_forces_payerror_everywhere(sandbox: bool) -> None:
    assert rules.effect(9931, sandbox) == Effect.PAY_FAIL


@pytest.mark.parametrize("sandbox", [True, False])
def test_9941_forces_frequency_limited_everywhere(sandbox: bool) -> None:
    assert rules.effect(9941, sandbox) == Effect.FREQUENCY_LIMITED


@pytest.mark.parametrize("total_fee", [1, 100, 102, 550, 9910, 9912])
@pytest.mark.parametrize("sandbox", [True, False])
def test_other_amounts_have_no_effect(total_fee: int, sandbox: bool) -> None:
    assert rules.effect(total_fee, sandbox) is None


def test_each_amount_has_one_rule() -> None:
    amounts = [rule.total_fee for rule in rules.RULES]
    assert len(amounts) == len(set(amounts))


def test_every_effect_has_a_rule() -> None:
    assert {rule.effect for rule in rules.RULES} == set(Effect)


def test_every_rule_is_in_the_documented_table() -> None:
    table = rules.__doc__ or ""
    for rule in rules.RULES:
        assert str(rule.total_fee) in table, rule


def test_every_rule_has_a_description() -> None:
    assert all(rule.description for rule in rules.RULES)

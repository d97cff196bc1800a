"""Outcome rules as data: amounts that force an outcome, so every path is testable without a browser.

| where            | total_fee | what happens                                                          |
| ---------------- | --------- | --------------------------------------------------------------------- |
| sandbox paths    | 101, 551  | the official sandbox's acceptance cases: paid at once, notified        |
| any path         | 9911      | unifiedorder answers SYSTEMERROR (test the merchant's retry)           |
| any path         | 9921      | paying ends in NOTENOUGH whatever the balance (order stays NOTPAY)     |
| any path         | 9931      | paying ends in PAYERROR                                                 |
| any path         | 9941      | placing the order answers FREQUENCY_LIMITED (v3: HTTP 429)             |
| any path         | other     | the order waits for its payer (pay sheet or the control API's pay)     |

A user whose balance is below the amount also gets NOTENOUGH, as in WeChat.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Effect(StrEnum):
    AUTOPAY = "autopay"
    UNIFIEDORDER_SYSTEMERROR = "unifiedorder_systemerror"
    PAY_NOTENOUGH = "pay_notenough"
    PAY_FAIL = "pay_fail"
    FREQUENCY_LIMITED = "frequency_limited"


@dataclass(frozen=True)
class Rule:
    total_fee: int
    effect: Effect
    sandbox_only: bool
    description: str


RULES = (
    Rule(101, Effect.AUTOPAY, True, "official sandbox acceptance case: JSAPI normal payment (1.01 yuan)"),
    Rule(551, Effect.AUTOPAY, True, "official sandbox case 1003: JSAPI/APP/NATIVE normal payment (5.51 yuan)"),
    Rule(9911, Effect.UNIFIEDORDER_SYSTEMERROR, False, "unifiedorder answers SYSTEMERROR"),
    Rule(9921, Effect.PAY_NOTENOUGH, False, "paying ends in NOTENOUGH whatever the balance"),
    Rule(9931, Effect.PAY_FAIL, False, "paying ends in PAYERROR"),
    Rule(9941, Effect.FREQUENCY_LIMITED, False, "placing the order answers FREQUENCY_LIMITED (v3: HTTP 429)"),
)


def effect(total_fee: int, sandbox: bool) -> Effect | None:
    for rule in RULES:
        if rule.total_fee == total_fee and (sandbox or not rule.sandbox_only):
            return rule.effect
    return None

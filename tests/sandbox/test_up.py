"""`wechat-sandbox up`'s shop settings: API v2 by default, API v3 (`--shop-api v3`) with the merchant's key files."""

from __future__ import annotations

import pytest

from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import cli, up
from tests.conftest import make_config, v3_material

SANDBOX, SHOP = "http://127.0.0.1:8600", "http://127.0.0.1:8700"


def test_the_shop_speaks_api_v2_by_default() -> None:
    settings = up.shop_settings(make_config(), SANDBOX, SHOP)
    assert (settings.pay_api, settings.v3) == ("v2", None)


def test_the_v3_shop_gets_what_a_merchant_downloads_and_nothing_of_wechat_pays_private_keys() -> None:
    config = make_config()
    keys = MerchantKeys.load(config.merchants[0].mch_id, v3_material())
    settings = up.shop_settings(config, SANDBOX, SHOP, pay_api="v3", keys=keys)
    assert settings.pay_api == "v3"
    assert settings.v3 == up.v3_keys(keys)
    assert settings.v3 is not None
    assert (settings.v3.serial_no, settings.v3.public_key_id) == (keys.serial_no, keys.public_key_id)
    shown = repr(settings.v3.__dict__)
    assert keys.platform_private_key not in shown
    assert keys.public_key_private_key not in shown


def test_a_v3_shop_without_keys_is_refused() -> None:
    with pytest.raises(ValueError, match="API v3 keys"):
        up.shop_settings(make_config(), SANDBOX, SHOP, pay_api="v3")


def test_up_takes_shop_api_v3() -> None:
    assert cli.parser().parse_args(["up", "--shop-api", "v3"]).shop_api == "v3"


def test_up_defaults_to_shop_api_v2() -> None:
    assert cli.parser().parse_args(["up"]).shop_api == "v2"


def test_up_refuses_another_shop_api(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        cli.parser().parse_args(["up", "--shop-api", "v4"])
    assert exited.value.code == 2
    assert "invalid choice: 'v4'" in capsys.readouterr().err

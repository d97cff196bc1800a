"""`wechat-sandbox up`'s shop settings: API v2 by default, API v3 (`--shop-api v3`) with the merchant's key files;
its orders in the data dir."""

from __future__ import annotations

import re
import signal
from pathlib import Path

import pytest
import requests
from aiohttp.test_utils import unused_port

from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import cli, up
from tests.conftest import make_config, v3_material
from tests.sandbox.conftest import ServerFactory

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


def test_the_shop_keeps_its_orders_in_the_data_dir(tmp_path: Path) -> None:
    settings = up.shop_settings(make_config(), SANDBOX, SHOP, data_dir=tmp_path)
    assert settings.database == tmp_path / "demo_shop.sqlite3"


def test_without_a_data_dir_the_shop_keeps_its_orders_in_memory() -> None:
    assert up.shop_settings(make_config(), SANDBOX, SHOP).database is None


# -- the real command, twice on one data dir ---------------------------------------------------------


def place_order(shop: str) -> str:
    """Sign in as alice (through the sandbox's authorize page, as a script does) and buy a coffee."""
    with requests.Session() as browser:
        to_wechat = browser.get(f"{shop}/login", allow_redirects=False, timeout=10)
        headers = {"X-WeChat-Sandbox-User": "alice", "X-WeChat-Sandbox-Consent": "allow"}
        back = browser.get(to_wechat.headers["Location"], headers=headers, allow_redirects=False, timeout=10)
        assert browser.get(back.headers["Location"], allow_redirects=False, timeout=10).headers["Location"] == "/"
        placed = browser.post(f"{shop}/orders", data={"product": "coffee"}, allow_redirects=False, timeout=10)
    found = re.fullmatch(r"/checkout/(\w+)", placed.headers["Location"])
    assert found is not None, placed.headers["Location"]
    return found[1]


def test_up_again_on_the_same_data_dir_still_has_the_shops_orders(launch: ServerFactory, tmp_path: Path) -> None:
    port = unused_port()
    shop = f"http://127.0.0.1:{port}"
    args = ("--data-dir", str(tmp_path / "data"), "--seed", "1", "--shop-port", str(port))
    first = launch(*args, subcommand="up")
    out_trade_no = place_order(shop)
    assert first.stop(signal.SIGTERM) == 0
    assert (tmp_path / "data" / "demo_shop.sqlite3").is_file()
    launch(*args, subcommand="up")
    result = requests.get(f"{shop}/result/{out_trade_no}", timeout=10)
    assert result.status_code == 200
    assert out_trade_no in result.text
    assert f'data-order="{out_trade_no}"' in requests.get(f"{shop}/admin", timeout=10).text


def test_up_in_memory_keeps_the_shops_orders_nowhere_on_disk(launch: ServerFactory, tmp_path: Path) -> None:
    port = unused_port()
    server = launch("--in-memory", "--seed", "1", "--shop-port", str(port), subcommand="up", cwd=tmp_path)
    place_order(f"http://127.0.0.1:{port}")
    assert server.stop(signal.SIGTERM) == 0
    assert list(tmp_path.iterdir()) == []

"""`sandbox.config_file.load`: the defaults, a TOML file over them, the command line over both."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

import sandbox
from mock_wechat.config import DEFAULT_SINGLE_PAYMENT_LIMIT, AccountKind, KeyMaterial, ResponseSigning, User
from mock_wechat.pay.v3_keys import MerchantKeys
from sandbox import defaults
from sandbox.config_file import ConfigError, load
from tests.conftest import ClientFactory, v3_material

Client = TestClient[web.Request, web.Application]


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sandbox.toml"
    path.write_text(text, encoding="utf-8")
    return path


def error_of(tmp_path: Path, text: str) -> str:
    with pytest.raises(ConfigError) as info:
        load(write(tmp_path, text))
    return str(info.value)


ACCOUNT = """
[[accounts]]
appid = "wx1111111111111111"
secret = "s1"
"""


# -- defaults -------------------------------------------------------------------------------------


def test_no_file_gives_the_zero_config_defaults() -> None:
    config = load(None)
    assert config.accounts == (defaults.default_account(),)
    assert config.merchants == (defaults.default_merchant(),)
    assert [u.id for u in config.users] == list(defaults.DEFAULT_USER_IDS)
    assert config.auto_user is None
    assert config.seed is None
    assert config.accounts[0].appid == defaults.DEFAULT_APPID
    assert config.accounts[0].secret == defaults.DEFAULT_SECRET
    assert config.accounts[0].trust_loopback is True


def test_generated_users_have_chinese_profiles() -> None:
    for user in load(None, seed=1).users:
        assert user.nickname
        assert user.nickname != user.id
        assert user.sex in (1, 2)
        assert user.province
        assert user.city
        assert user.country == "中国"
        assert user.pin == "123456"


def test_same_seed_same_users() -> None:
    assert load(None, seed=1).users == load(None, seed=1).users
    assert load(None).users == load(None, seed=defaults.DEFAULT_SEED).users


def test_different_seed_different_users() -> None:
    one = [u.nickname for u in load(None, seed=1).users]
    two = [u.nickname for u in load(None, seed=2).users]
    assert one != two


def test_seed_from_the_file_and_from_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, "[sandbox]\nseed = 5\n")
    from_file = load(path)
    assert from_file.seed == 5
    assert from_file.users == load(None, seed=5).users
    overridden = load(path, seed=6)
    assert overridden.seed == 6
    assert overridden.users == load(None, seed=6).users


# -- overrides ------------------------------------------------------------------------------------


def test_accounts_merchants_and_users_replace_the_defaults(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        """
[[accounts]]
appid = "wx1111111111111111"
secret = "s1"
name = "First"
unionid = false

[[accounts]]
appid = "wx2222222222222222"
secret = "s2"
kind = "website"

[[merchants]]
mch_id = "1230000109"
key = "k"
appids = ["wx1111111111111111"]

[[users]]
id = "zoe"
nickname = "佐伊"
sex = 2
balance = 100
pin = "654321"
snapshot = true

[[users]]
id = "yan"
""",
    )
    config = load(path)
    first, second = config.accounts
    assert (first.appid, first.secret, first.name, first.unionid) == ("wx1111111111111111", "s1", "First", False)
    assert (second.name, second.kind) == ("wx2222222222222222", AccountKind.WEBSITE)
    [merchant] = config.merchants
    assert (merchant.mch_id, merchant.key, merchant.name) == ("1230000109", "k", "1230000109")
    assert merchant.appids == ("wx1111111111111111",)
    assert merchant.trust_loopback is True
    assert config.users == (
        User(id="zoe", nickname="佐伊", sex=2, balance=100, pin="654321", snapshot=True),
        User(id="yan", nickname="yan"),
    )
    assert config.account("wx2222222222222222") is second


def test_only_the_tables_a_file_sets_are_replaced(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[[users]]\nid = "zoe"\n'))
    assert config.accounts == (defaults.default_account(),)
    assert config.merchants == (defaults.default_merchant(),)
    assert [u.id for u in config.users] == ["zoe"]


def test_an_account_with_domains_does_not_trust_loopback_by_default(tmp_path: Path) -> None:
    config = load(write(tmp_path, ACCOUNT + 'oauth_domains = ["shop.example.com"]\n'))
    [account] = config.accounts
    assert account.oauth_domains == ("shop.example.com",)
    assert account.trust_loopback is False


def test_an_account_with_js_domains_does_not_trust_loopback_by_default(tmp_path: Path) -> None:
    [account] = load(write(tmp_path, ACCOUNT + 'js_domains = ["shop.example.com"]\n')).accounts
    assert account.trust_loopback is False


def test_an_account_without_domains_trusts_loopback(tmp_path: Path) -> None:
    [account] = load(write(tmp_path, ACCOUNT)).accounts
    assert account.oauth_domains == ()
    assert account.trust_loopback is True


def test_trust_loopback_can_be_set_explicitly(tmp_path: Path) -> None:
    text = ACCOUNT + 'oauth_domains = ["shop.example.com"]\ntrust_loopback = true\n'
    [account] = load(write(tmp_path, text)).accounts
    assert account.trust_loopback is True


def test_a_merchant_with_pay_directories_does_not_trust_loopback_by_default(tmp_path: Path) -> None:
    text = '[[merchants]]\nmch_id = "1"\nkey = "k"\npay_directories = ["https://shop.example.com/pay/"]\n'
    [merchant] = load(write(tmp_path, text)).merchants
    assert merchant.trust_loopback is False


def test_a_merchant_has_a_default_single_payment_limit(tmp_path: Path) -> None:
    [merchant] = load(write(tmp_path, '[[merchants]]\nmch_id = "1"\nkey = "k"\n')).merchants
    assert merchant.single_payment_limit == DEFAULT_SINGLE_PAYMENT_LIMIT


def test_a_merchant_single_payment_limit_can_be_set(tmp_path: Path) -> None:
    text = '[[merchants]]\nmch_id = "1"\nkey = "k"\nsingle_payment_limit = 5000\n'
    [merchant] = load(write(tmp_path, text)).merchants
    assert merchant.single_payment_limit == 5000


@pytest.mark.parametrize("limit", ["0", "-1", "2147483648", "9223372036854775807"])
def test_a_single_payment_limit_outside_wechats_int_is_an_error(tmp_path: Path, limit: str) -> None:
    message = error_of(tmp_path, f'[[merchants]]\nmch_id = "1"\nkey = "k"\nsingle_payment_limit = {limit}\n')
    assert message == f"merchants[0].single_payment_limit: must be 1 to 2147483647 fen (WeChat's Int), got {limit}"


async def test_the_loaded_file_drives_the_emulated_wechat(tmp_path: Path, aiohttp_client: ClientFactory) -> None:
    config = load(write(tmp_path, ACCOUNT + 'oauth_domains = ["shop.example.com"]\n'))
    client: Client = await aiohttp_client(sandbox.create_app(config))
    params = {"appid": "wx1111111111111111", "response_type": "code", "scope": "snsapi_base", "state": "s"}
    headers = {"X-WeChat-Sandbox-User": "alice"}
    loopback = await client.get(
        "/connect/oauth2/authorize",
        params={**params, "redirect_uri": "http://127.0.0.1:9000/cb"},
        headers=headers,
        allow_redirects=False,
    )
    assert loopback.status == 200
    assert "10003" in await loopback.text()
    allowed = await client.get(
        "/connect/oauth2/authorize",
        params={**params, "redirect_uri": "http://shop.example.com/cb"},
        headers=headers,
        allow_redirects=False,
    )
    assert allowed.status == 302
    assert allowed.headers["Location"].startswith("http://shop.example.com/cb?code=")


# -- auto_user ------------------------------------------------------------------------------------


def test_auto_user_from_the_file_and_from_the_command_line(tmp_path: Path) -> None:
    path = write(tmp_path, '[sandbox]\nauto_user = "bob"\n')
    assert load(path).auto_user == "bob"
    assert load(path, auto_user="carol").auto_user == "carol"
    assert load(None, auto_user="alice").auto_user == "alice"


def test_an_unknown_auto_user_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"auto_user 'mallory' is not a configured user.*alice"):
        load(None, auto_user="mallory")
    with pytest.raises(ConfigError, match="mallory"):
        load(write(tmp_path, '[sandbox]\nauto_user = "mallory"\n'))
    with pytest.raises(ConfigError, match="'alice' is not a configured user"):
        load(write(tmp_path, '[[users]]\nid = "zoe"\n'), auto_user="alice")


# -- errors ---------------------------------------------------------------------------------------


def test_a_missing_file_is_an_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError) as info:
        load(missing)
    assert str(missing) in str(info.value)
    assert "No such file" in str(info.value)


def test_bad_toml_is_an_error_naming_the_file_and_line(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[accounts]]\nappid = "wx1"\nsecret = \n')
    assert "sandbox.toml" in message
    assert "not valid TOML" in message
    assert "line 3" in message


def test_a_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[[users]]\nid = "zoé"\n'.encode("latin-1"))
    with pytest.raises(ConfigError, match=r"latin1\.toml: not UTF-8"):
        load(path)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ACCOUNT + 'apid = "x"\n', "accounts[0]: unknown keys ['apid']"),
        ('[[merchants]]\nmch_id = "1"\nkey = "k"\ncolour = "red"\n', "merchants[0]: unknown keys ['colour']"),
        ('[[users]]\nid = "zoe"\nage = 3\n', "users[0]: unknown keys ['age']"),
        ('[[acounts]]\nappid = "wx1"\nsecret = "s"\n', "unknown top-level keys ['acounts']"),
        ("[sandbox]\nsed = 1\n", "sandbox: unknown keys ['sed']"),
    ],
)
def test_unknown_keys_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    message = error_of(tmp_path, text)
    assert expected in message
    assert "allowed" in message


def test_the_unknown_key_message_lists_the_allowed_keys(tmp_path: Path) -> None:
    message = error_of(tmp_path, ACCOUNT + 'apid = "x"\n')
    for key in ("appid", "secret", "oauth_domains", "js_domains", "trust_loopback"):
        assert key in message


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[accounts]]\nappid = "wx1"\n', "accounts[0]: missing ['secret']"),
        ('[[accounts]]\nsecret = "s"\n', "accounts[0]: missing ['appid']"),
        ('[[merchants]]\nmch_id = "1"\n', "merchants[0]: missing ['key']"),
        ('[[users]]\nnickname = "x"\n', "users[0]: missing ['id']"),
    ],
)
def test_missing_required_keys_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


@pytest.mark.parametrize("pin", ['"12345"', '"1234567"', '"abcdef"', "123456", '""'])
def test_a_bad_pin_is_an_error(tmp_path: Path, pin: str) -> None:
    message = error_of(tmp_path, f'[[users]]\nid = "zoe"\npin = {pin}\n')
    assert "users[0].pin" in message
    assert "string" in message


def test_a_good_pin_is_kept(tmp_path: Path) -> None:
    [user] = load(write(tmp_path, '[[users]]\nid = "zoe"\npin = "000000"\n')).users
    assert user.pin == "000000"


def test_a_duplicate_appid_is_an_error(tmp_path: Path) -> None:
    assert "duplicate appid: ['wx1111111111111111']" in error_of(tmp_path, ACCOUNT + ACCOUNT)


def test_a_duplicate_user_id_is_an_error(tmp_path: Path) -> None:
    assert "duplicate user id: ['zoe']" in error_of(tmp_path, '[[users]]\nid = "zoe"\n[[users]]\nid = "zoe"\n')


def test_an_unknown_account_kind_is_an_error(tmp_path: Path) -> None:
    assert "accounts[0].kind: must be 'official', 'website' or 'app'" in error_of(tmp_path, ACCOUNT + 'kind = "mini"\n')


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (ACCOUNT + 'oauth_domains = "shop.example.com"\n', "accounts[0].oauth_domains: must be a list of strings"),
        (ACCOUNT + "js_domains = [1, 2]\n", "accounts[0].js_domains: must be a list of strings"),
        (ACCOUNT + 'trust_loopback = "yes"\n', "accounts[0].trust_loopback: must be true or false"),
        (ACCOUNT + "name = 7\n", "accounts[0].name: must be a string"),
        ('[[users]]\nid = "zoe"\nbalance = "lots"\n', "users[0].balance: must be an integer"),
        ('[[users]]\nid = "zoe"\nsex = true\n', "users[0].sex: must be an integer"),
        ("[[users]]\nid = 7\n", "users[0].id: must be a string"),
        ("accounts = 1\n", "accounts: must be an array of tables"),
        ('users = ["zoe"]\n', "users: must be an array of tables"),
        ("sandbox = 3\n", "sandbox: must be a table"),
        ('[sandbox]\nseed = "abc"\n', "sandbox.seed: must be an integer"),
        ("[sandbox]\nauto_user = 1\n", "sandbox.auto_user: must be a string"),
    ],
)
def test_values_of_the_wrong_type_are_errors(tmp_path: Path, text: str, expected: str) -> None:
    assert expected in error_of(tmp_path, text)


def test_allowed_hosts_from_the_file(tmp_path: Path) -> None:
    config = load(write(tmp_path, '[sandbox]\nallowed_hosts = ["wechat-sandbox", "devbox.local"]\n'))
    assert config.allowed_hosts == ("wechat-sandbox", "devbox.local")


def test_allowed_hosts_must_be_a_list_of_strings(tmp_path: Path) -> None:
    error = error_of(tmp_path, '[sandbox]\nallowed_hosts = "wechat-sandbox"\n')
    assert error == "sandbox.allowed_hosts: must be a list of strings, got 'wechat-sandbox'"


# -- the JS-SDK served at res.wx.qq.com's paths ------------------------------------------------------


def test_no_jssdk_file_leaves_the_sandboxs_own() -> None:
    assert load(None).jssdk_source == ""


def test_jssdk_file_is_read_once_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "conf" / "js").mkdir(parents=True)
    (tmp_path / "conf" / "js" / "jweixin.js").write_text("module.exports = {}; // 微信\n", encoding="utf-8")
    (tmp_path / "conf" / "sandbox.toml").write_text('[sandbox]\njssdk_file = "js/jweixin.js"\n', encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    config = load(Path("conf/sandbox.toml"))
    (tmp_path / "conf" / "js" / "jweixin.js").unlink()  # read at load: nothing is read again later
    assert config.jssdk_source == "module.exports = {}; // 微信\n"


def test_a_missing_jssdk_file_is_an_error_naming_it(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[sandbox]\njssdk_file = "node_modules/weixin-js-sdk/index.js"\n')
    path = tmp_path / "node_modules" / "weixin-js-sdk" / "index.js"
    assert message == f"sandbox.jssdk_file: cannot read {path}: No such file or directory"


def test_a_jssdk_file_that_is_not_utf8_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "sdk.js").write_bytes(b"\xff\xfe\x00var wx;")
    message = error_of(tmp_path, '[sandbox]\njssdk_file = "sdk.js"\n')
    assert message == f"sandbox.jssdk_file: {tmp_path / 'sdk.js'} is not UTF-8 text (the JS-SDK is a JavaScript file)"


def test_an_empty_jssdk_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "sdk.js").write_text("\n", encoding="utf-8")
    message = error_of(tmp_path, '[sandbox]\njssdk_file = "sdk.js"\n')
    assert message == f"sandbox.jssdk_file: {tmp_path / 'sdk.js'} is empty"


def test_jssdk_file_must_be_a_string(tmp_path: Path) -> None:
    assert error_of(tmp_path, "[sandbox]\njssdk_file = true\n") == "sandbox.jssdk_file: must be a string, got True"


# -- API v3: the merchant's own keys, its API v3 key, which key signs answers ------------------------

MERCHANT = '[[merchants]]\nmch_id = "1900000109"\nkey = "k"\n'


def key_files(directory: Path, material: KeyMaterial | None = None) -> None:
    """The session's key material as the PEM files a merchant would keep beside the config."""
    material = material or v3_material()
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in (
        ("apiclient_key.pem", material.private_key),
        ("apiclient_cert.pem", material.certificate),
        ("platform_key.pem", material.platform_private_key),
        ("platform_cert.pem", material.platform_certificate),
        ("pub_key_private.pem", material.public_key_private_key),
    ):
        (directory / name).write_text(text, encoding="ascii")


OWN_KEYS = (
    MERCHANT
    + 'apiv3_key = "0123456789abcdef0123456789abcdef"\n'
    + 'private_key_file = "keys/apiclient_key.pem"\ncertificate_file = "keys/apiclient_cert.pem"\n'
    + 'platform_private_key_file = "keys/platform_key.pem"\nplatform_certificate_file = "keys/platform_cert.pem"\n'
    + 'public_key_private_key_file = "keys/pub_key_private.pem"\npublic_key_id = "PUB_KEY_ID_0119000001092024"\n'
)


def test_a_merchant_has_no_own_keys_and_signs_with_the_public_key_by_default(tmp_path: Path) -> None:
    [merchant] = load(write(tmp_path, MERCHANT)).merchants
    assert (merchant.v3_keys, merchant.response_signing) == (KeyMaterial(), ResponseSigning.PUBLIC_KEY)


def test_response_signing_can_be_the_platform_certificate(tmp_path: Path) -> None:
    [merchant] = load(write(tmp_path, MERCHANT + 'response_signing = "platform_certificate"\n')).merchants
    assert merchant.response_signing is ResponseSigning.PLATFORM_CERTIFICATE


def test_an_unknown_response_signing_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, MERCHANT + 'response_signing = "rsa"\n')
    assert message == "merchants[0].response_signing: must be 'public_key' or 'platform_certificate'"


def test_own_key_files_are_read_relative_to_the_config_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    key_files(tmp_path / "conf" / "keys")
    path = tmp_path / "conf" / "sandbox.toml"
    path.write_text(OWN_KEYS, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    [merchant] = load(Path("conf/sandbox.toml")).merchants
    assert merchant.v3_keys == replace(
        v3_material(), apiv3_key="0123456789abcdef0123456789abcdef", public_key_id="PUB_KEY_ID_0119000001092024"
    )


def test_only_the_merchant_pair_may_be_given(tmp_path: Path) -> None:
    key_files(tmp_path / "keys")
    text = MERCHANT + 'private_key_file = "keys/apiclient_key.pem"\ncertificate_file = "keys/apiclient_cert.pem"\n'
    [merchant] = load(write(tmp_path, text)).merchants
    material = v3_material()
    assert merchant.v3_keys == KeyMaterial(private_key=material.private_key, certificate=material.certificate)


def test_half_a_pair_is_an_error(tmp_path: Path) -> None:
    key_files(tmp_path / "keys")
    message = error_of(tmp_path, MERCHANT + 'private_key_file = "keys/apiclient_key.pem"\n')
    assert message == "merchants[0]: private_key_file and certificate_file go together (give both or neither)"


def test_a_public_key_id_needs_its_key(tmp_path: Path) -> None:
    message = error_of(tmp_path, MERCHANT + 'public_key_id = "PUB_KEY_ID_0119000001092024"\n')
    assert message == ("merchants[0]: public_key_private_key_file and public_key_id go together (give both or neither)")


def test_a_missing_key_file_is_an_error_naming_it(tmp_path: Path) -> None:
    key_files(tmp_path / "keys")
    text = MERCHANT + 'private_key_file = "keys/nope.pem"\ncertificate_file = "keys/apiclient_cert.pem"\n'
    message = error_of(tmp_path, text)
    assert (
        message
        == f"merchants[0].private_key_file: cannot read {tmp_path / 'keys' / 'nope.pem'}: No such file or directory"
    )


def test_a_key_that_is_not_its_certificates_is_an_error(tmp_path: Path) -> None:
    key_files(tmp_path / "keys")
    text = MERCHANT + 'private_key_file = "keys/platform_key.pem"\ncertificate_file = "keys/apiclient_cert.pem"\n'
    assert error_of(tmp_path, text) == (
        "merchants[0]: private_key_file 'keys/platform_key.pem' / certificate_file 'keys/apiclient_cert.pem': "
        "the private key does not match the certificate (their public keys differ)"
    )


def test_a_certificate_given_as_a_key_is_an_error(tmp_path: Path) -> None:
    key_files(tmp_path / "keys")
    text = MERCHANT + 'private_key_file = "keys/apiclient_cert.pem"\ncertificate_file = "keys/apiclient_cert.pem"\n'
    assert error_of(tmp_path, text) == (
        "merchants[0]: private_key_file 'keys/apiclient_cert.pem' / certificate_file 'keys/apiclient_cert.pem': "
        "not a valid PEM private key"
    )


def test_a_binary_key_file_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "key.der").write_bytes(b"\x30\x82\xff\xfe")
    (tmp_path / "cert.pem").write_text(v3_material().certificate, encoding="ascii")
    message = error_of(tmp_path, MERCHANT + 'private_key_file = "key.der"\ncertificate_file = "cert.pem"\n')
    assert message == f"merchants[0].private_key_file: {tmp_path / 'key.der'} is not a PEM file (PEM is ASCII text)"


@pytest.mark.parametrize(
    "value", ['"short"', '"0123456789abcdef0123456789abcdef0"', '"ÄÖÜ3456789abcdef0123456789abcdef"']
)
def test_an_apiv3_key_that_is_not_32_ascii_characters_is_an_error(tmp_path: Path, value: str) -> None:
    message = error_of(tmp_path, MERCHANT + f"apiv3_key = {value}\n")
    assert message == "merchants[0].apiv3_key: must be 32 ASCII characters (AES-256-GCM uses its bytes)"


def test_a_public_key_id_must_look_like_one(tmp_path: Path) -> None:
    key_files(tmp_path / "keys")
    text = MERCHANT + 'public_key_private_key_file = "keys/pub_key_private.pem"\npublic_key_id = "KEY 1"\n'
    assert error_of(tmp_path, text) == (
        "merchants[0].public_key_id: must be PUB_KEY_ID_ and letters or digits, got 'KEY 1'"
    )


def test_a_key_file_name_must_be_a_string(tmp_path: Path) -> None:
    message = error_of(tmp_path, MERCHANT + "private_key_file = 1\n")
    assert message == "merchants[0].private_key_file: must be a string, got 1"


def test_the_unknown_key_message_lists_the_key_file_keys(tmp_path: Path) -> None:
    message = error_of(tmp_path, MERCHANT + 'private_key = "x"\n')
    assert message.startswith("merchants[0]: unknown keys ['private_key']; allowed: [")
    for key in ("apiv3_key", "certificate_file", "private_key_file", "public_key_id", "response_signing"):
        assert repr(key) in message
    assert "'v3_keys'" not in message


async def test_the_sandbox_lists_the_keys_of_the_files(tmp_path: Path, aiohttp_client: ClientFactory) -> None:
    key_files(tmp_path / "keys")
    client: Client = await aiohttp_client(sandbox.create_app(load(write(tmp_path, OWN_KEYS))))
    [merchant] = (await (await client.get("/_sandbox/api/config")).json())["merchants"]
    expected = MerchantKeys.load("1900000109", v3_material())
    assert (merchant["private_key"], merchant["serial_no"]) == (expected.private_key, expected.serial_no)
    assert (merchant["apiv3_key"], merchant["public_key_id"]) == (
        "0123456789abcdef0123456789abcdef",
        "PUB_KEY_ID_0119000001092024",
    )


def test_a_merchant_reads_its_h5_pay_domains_and_scan_pay_callback_url(tmp_path: Path) -> None:
    text = (
        '[[merchants]]\nmch_id = "1"\nkey = "k"\nh5_domains = ["shop.example.com"]\n'
        'native_callback_url = "https://shop.example.com/native/callback"\n'
    )
    [merchant] = load(write(tmp_path, text)).merchants
    assert (merchant.h5_domains, merchant.native_callback_url) == (
        ("shop.example.com",),
        "https://shop.example.com/native/callback",
    )


def test_a_merchant_with_h5_domains_does_not_trust_loopback_by_default(tmp_path: Path) -> None:
    text = '[[merchants]]\nmch_id = "1"\nkey = "k"\nh5_domains = ["shop.example.com"]\n'
    [merchant] = load(write(tmp_path, text)).merchants
    assert merchant.trust_loopback is False


def test_a_scan_pay_callback_url_that_is_not_absolute_is_an_error(tmp_path: Path) -> None:
    message = error_of(tmp_path, '[[merchants]]\nmch_id = "1"\nkey = "k"\nnative_callback_url = "/native"\n')
    assert message == "merchants[0].native_callback_url: '/native' is not an absolute http(s) URL"

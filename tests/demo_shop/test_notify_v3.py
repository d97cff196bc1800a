"""The shop's API v3 notify endpoints: a refusal is WeChat Pay's FAIL, in JSON a person can read."""

from __future__ import annotations

from tests.demo_shop.conftest import close_world, open_world


async def test_an_unsigned_notification_is_refused_in_readable_json() -> None:
    world = await open_world(None, "v3")
    try:
        resp = await world.post(
            "/notify/v3/pay", data=b'{"id": "forged"}', headers={"Content-Type": "application/json"}
        )
        assert resp.status == 401
        assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
        assert (await resp.read()).decode("utf-8") == '{"code": "FAIL", "message": "签名验证失败"}'
    finally:
        await close_world(world)

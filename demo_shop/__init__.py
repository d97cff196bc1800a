"""The demo shop: a merchant doing the WeChat web-payment flow right, step by step (the seed's nine steps)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from demo_shop.app import create_app
else:

    def __getattr__(name: str) -> Any:
        """`create_app` is imported when asked for: `wechat-sandbox serve` never pays for the shop's imports."""
        if name == "create_app":
            from demo_shop.app import create_app

            return create_app
        raise AttributeError(f"module 'demo_shop' has no attribute {name!r}")


__all__ = ["create_app"]

"""The demo shop: a merchant doing the WeChat web-payment flow right, step by step (the seed's nine steps)."""

from demo_shop.app import create_app

__all__ = ["create_app"]

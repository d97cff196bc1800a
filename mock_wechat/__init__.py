"""WeChat itself, emulated: Official Account APIs, web authorization, WeChat Pay v2 and the in-page bridge."""

from mock_wechat.app import create_app

__all__ = ["create_app"]

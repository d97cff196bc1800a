"""WeChat itself, emulated: Official Account APIs, web authorization and (later) WeChat Pay."""

from mock_wechat.app import create_app

__all__ = ["create_app"]

"""The tea shop running for the tests, talking to the sandbox the plugin started."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import tea_shop

from sandbox.testing import AppThread


@pytest.fixture
def shop(wechat_sandbox) -> Iterator[AppThread]:
    """The app under test on a free port (AppThread: Playwright's sync API owns this thread's loop)."""
    server = AppThread(lambda: tea_shop.create_app(wechat_sandbox.url, wechat_sandbox.appid, wechat_sandbox.secret))
    yield server.start()
    server.stop()

"""Browser assets (bridge, wx, pay sheet, console), installed as `wechat_sandbox_static`."""

from pathlib import Path

ROOT = Path(__file__).parent

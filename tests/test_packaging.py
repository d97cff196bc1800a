"""The wheel ships every package and the browser assets."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def listed_packages() -> set[str]:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    return set(data["tool"]["setuptools"]["packages"])


def test_every_python_package_is_listed_in_pyproject() -> None:
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for top in ("mock_wechat", "sandbox", "demo_shop")
        for init in (ROOT / top).rglob("__init__.py")
    }
    assert found <= listed_packages(), sorted(found - listed_packages())


def test_static_is_shipped_as_wechat_sandbox_static() -> None:
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert data["tool"]["setuptools"]["package-dir"]["wechat_sandbox_static"] == "static"
    assert "*.js" in data["tool"]["setuptools"]["package-data"]["wechat_sandbox_static"]


def test_every_template_is_shipped() -> None:
    """Each template folder is matched by a package-data pattern (a wheel would miss the others)."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    shipped = data["tool"]["setuptools"]["package-data"]
    for package in ("mock_wechat", "sandbox", "demo_shop"):
        for template in (ROOT / package).rglob("templates/**/*.html"):
            pattern = str(template.parent.relative_to(ROOT / package) / "*.html")
            assert pattern in shipped.get(package, []), f"{package}: {pattern} is not in package-data"

"""The workbench around the emulated WeChat: config files, CLI, control API and journal."""

from sandbox.app import create_app

__all__ = ["create_app"]

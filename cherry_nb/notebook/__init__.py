"""The notebook layer: magics, streaming rendering, widgets. Loaded by `%load_ext cherry_nb`."""

from __future__ import annotations

from typing import Any


def load_ipython_extension(ipython: Any) -> None:
    from .magics import ChatMagics

    ipython.register_magics(ChatMagics(ipython))


def unload_ipython_extension(ipython: Any) -> None:
    """Nothing to undo: the magics stay until the kernel restarts."""

"""Helpers shared by the panels: pure text (status lines, URL previews, summaries) and
closing widget trees.

The text helpers return strings, so they are unit-tested directly. Everything a
user or an upstream wrote is HTML-escaped, and every status line passes `redact`.
"""

from __future__ import annotations

import html

import ipywidgets as w

from ..._exceptions import CherryError, ConfigError
from ..._secrets import display_url, redact
from ...config.kinds import KINDS
from ...config.models import Provider, ProviderType
from ...config.urls import address, normalize_base_url, provider_address
from ...key_check import CheckResult
from ..detect import LocalServer
from ..markup import inline_html

OK_COLOUR = "#1a7f37"
FAIL_COLOUR = "#cf222e"
MUTED_COLOUR = "#6e7781"  # readable on JupyterLab's light and dark themes alike
TYPE_LABELS: dict[ProviderType, str] = {kind.id: kind.label for kind in KINDS.values()}


def status_html(text: str, ok: bool | None = None) -> str:
    """One escaped line, green when `ok`, red when not ok, grey when None."""
    colour = MUTED_COLOUR if ok is None else OK_COLOUR if ok else FAIL_COLOUR
    return f'<span style="color:{colour}">{inline_html(text)}</span>'


def check_html(result: CheckResult) -> str:
    """A CheckResult as a short coloured line, with the hint below it when it failed."""
    colour = OK_COLOUR if result.ok else FAIL_COLOUR
    line = f'<span style="color:{colour};font-weight:600">{inline_html(result.message)}</span>'
    if not result.ok:
        category = html.escape(result.category.value.replace("_", " "))
        line += f' <span style="color:{MUTED_COLOUR}">({category})</span>'
    if result.hint:
        line += f"<div>{inline_html(result.hint)}</div>"
    return line


def key_checks_html(result: CheckResult) -> str:
    """A line per key of a provider with several, green or red ("" for one key)."""
    lines = [
        f'<div style="color:{OK_COLOUR if key.ok else FAIL_COLOUR}">{html.escape(str(key))}</div>'
        for key in result.keys
    ]
    return "".join(lines) if len(lines) > 1 else ""


def preview_html(base_url: str, provider_type: ProviderType, api_version: str = "") -> str:
    """The request URL the typed address leads to, and what normalisation changed.

    Invalid input gives the error text (never a traceback).
    """
    if not base_url.strip():
        return status_html("Enter the API address; the request URL will appear here.")
    try:
        normalized = normalize_base_url(base_url, provider_type)
        version = api_version.strip() or normalized.api_version
        url = address(normalized.url, provider_type, version).chat_url()
    except ConfigError as exc:
        return status_html(exc.message, ok=False)
    return f"Requests go to <code>{html.escape(display_url(url))}</code>" + _notes_html(
        normalized.notes
    )


def _notes_html(notes: tuple[str, ...]) -> str:
    if not notes:
        return ""
    items = "".join(f"<li>{html.escape(note)}</li>" for note in notes)
    return f'<ul style="margin:2px 0;color:{MUTED_COLOUR}">{items}</ul>'


def provider_line_html(provider: Provider, light: bool | None = None) -> str:
    """One provider in the list: its status light (the last Check: green passed, red
    failed, grey not checked), name, id, type, model count, the masked key and the URL
    its requests go to (with how a hand-written address was read); greyed when the
    provider is disabled."""
    models = len(provider.models)
    colour = MUTED_COLOUR if light is None else OK_COLOUR if light else FAIL_COLOUR
    state = "not checked" if light is None else "check passed" if light else "check failed"
    opacity = "" if provider.enabled else ' style="opacity:0.5"'
    notes: tuple[str, ...]
    try:
        place = provider_address(provider)
    except ConfigError as exc:
        calls, notes = "an unusable base URL", (exc.message,)
    else:
        calls, notes = f"calls {display_url(place.chat_url())}", place.notes
    return (
        f'<span{opacity}><span style="color:{colour}" title="{state}">●</span> '
        f"<b>{html.escape(provider.name)}</b> <code>{html.escape(provider.id)}</code> "
        f'<span style="color:{MUTED_COLOUR}">· {TYPE_LABELS[provider.type]} · '
        f"{models} model{'s' if models != 1 else ''} · key {html.escape(provider.key_hint)} · "
        f"{html.escape(calls)}</span></span>" + _notes_html(notes)
    )


def error_text(exc: BaseException) -> str:
    """What to show for an error: cherry_nb's own message, else its type and text (redacted)."""
    if isinstance(exc, CherryError):
        return exc.message
    return redact(f"Unexpected error ({type(exc).__name__}): {exc}")


def local_server_html(server: LocalServer) -> str:
    """A detected server: its name, address and models."""
    models = ", ".join(server.models[:5]) + (" …" if len(server.models) > 5 else "")
    what = (
        "needs an API key to list its models"
        if server.needs_key
        else f"{len(server.models)} models: {models}"
        if server.models
        else "no models loaded"
    )
    return (
        f"<b>{html.escape(server.label)}</b> at <code>{html.escape(server.base_url)}</code> "
        f'<span style="color:{MUTED_COLOUR}">· {html.escape(what)}</span>'
    )


def close_tree(widget: w.Widget) -> None:
    """Close `widget` and, for a container, everything in it."""
    for child in getattr(widget, "children", ()):
        close_tree(child)
    widget.close()


def replace_children(box: w.Box, children: list[w.Widget]) -> None:
    """Show `children` in `box` and close the widgets they replace."""
    old, box.children = box.children, children
    for child in old:
        if child not in children:
            close_tree(child)

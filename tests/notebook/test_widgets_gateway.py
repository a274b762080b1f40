"""The gateway panel: a real gateway on a free port, driven through the panel's widgets."""

from __future__ import annotations

import ast
import json
import shlex
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import ipywidgets
import pytest

from cherry_nb.config.models import Config
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayStatus
from cherry_nb.notebook.runtime import Runtime
from cherry_nb.notebook.widgets import GatewayPanel, gateway, gateway_panel, public_url
from cherry_nb.notebook.widgets._common import OK_COLOUR
from cherry_nb.notebook.widgets.gateway import (
    KEY_ENV,
    SNIPPET_TITLES,
    STOPPED_COLOUR,
    copy_key_js,
    example_model,
    requests_text,
    snippets,
    status_line_html,
)

from .conftest import widgets_holding

GATEWAY_KEY = "cs-sk-test-PANELSECRET-0123456789"


def wait_for(condition: Callable[[], bool], timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


@pytest.fixture
def runtime(tmp_path: Path) -> Iterator[Runtime]:
    rt = Runtime(ProviderRegistry(tmp_path / "c.json"))
    rt.registry.set_server(api_key=GATEWAY_KEY)
    rt.registry.add(id="sim", name="Sim", base_url="http://127.0.0.1:9/v1", models=["sim-chat"])
    yield rt
    rt.close()


@pytest.fixture
def panel(runtime: Runtime) -> Iterator[GatewayPanel]:
    widget = GatewayPanel(runtime, refresh_interval=0.05, environ={})
    yield widget
    widget.close()


# ---- pure helpers -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("environ", "expected"),
    [
        ({}, None),
        ({"JUPYTERHUB_SERVICE_PREFIX": ""}, None),
        ({"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}, "/user/ada/proxy/23333/"),
        ({"JUPYTERHUB_SERVICE_PREFIX": "/user/ada"}, "/user/ada/proxy/23333/"),
        ({"JUPYTERHUB_SERVICE_PREFIX": "user/ada/"}, "/user/ada/proxy/23333/"),
        ({"JUPYTERHUB_SERVICE_PREFIX": "/"}, "/proxy/23333/"),
        ({"BINDER_LAUNCH_HOST": "https://mybinder.org/"}, None),
    ],
)
def test_public_url(environ: dict[str, str], expected: str | None) -> None:
    assert public_url(23333, environ) == expected


def test_snippets_use_the_url_and_an_env_var_never_the_key() -> None:
    texts = snippets("http://127.0.0.1:4321", "sim:sim-chat")
    assert tuple(texts) == SNIPPET_TITLES
    for title, text in texts.items():
        assert "http://127.0.0.1:4321" in text, title
        assert KEY_ENV in text, title
        assert "cs-sk-" not in text, title
    assert 'base_url="http://127.0.0.1:4321/v1"' in texts["OpenAI SDK"]
    assert 'base_url="http://127.0.0.1:4321"' in texts["Anthropic SDK"]
    for title in ("OpenAI SDK", "Anthropic SDK"):
        ast.parse(texts[title])  # valid Python, ready to paste
        assert f'os.environ["{KEY_ENV}"]' in texts[title]
        assert '"sim:sim-chat"' in texts[title]
    curl = shlex.split(texts["curl"].replace("\\\n", " "))
    assert curl[1] == "http://127.0.0.1:4321/v1/chat/completions"
    assert f"Authorization: Bearer ${KEY_ENV}" in curl
    assert json.loads(curl[curl.index("-d") + 1])["model"] == "sim:sim-chat"
    claude = texts["Claude Code"]
    assert "export ANTHROPIC_BASE_URL=http://127.0.0.1:4321\n" in claude
    assert f'export ANTHROPIC_AUTH_TOKEN="${KEY_ENV}"' in claude
    assert "export ANTHROPIC_MODEL=sim:sim-chat\n" in claude


def test_snippets_quote_odd_model_ids_for_the_shell() -> None:
    texts = snippets("http://h:1", "p:it's")
    assert shlex.split(texts["Claude Code"].splitlines()[2]) == ["export", "ANTHROPIC_MODEL=p:it's"]


def test_example_model() -> None:
    config = Config.model_validate(
        {
            "providers": [
                {"id": "off", "base_url": "http://h/v1", "enabled": False, "models": ["m"]},
                {"id": "empty", "base_url": "http://h/v1"},
                {"id": "on", "base_url": "http://h/v1", "models": ["m1", "m2"]},
            ]
        }
    )
    assert example_model(config) == "on:m1"
    assert example_model(config.model_copy(update={"default_model": "x:y"})) == "x:y"
    assert example_model(Config()) == "provider-id:model-id"


def test_status_line_and_request_count() -> None:
    running = GatewayStatus(True, "http://127.0.0.1:5", 3, 12.4)
    line = status_line_html(running, "/user/<ada>/proxy/5/")
    assert OK_COLOUR in line and "http://127.0.0.1:5" in line
    assert "/user/&lt;ada&gt;/proxy/5/" in line
    stopped = status_line_html(GatewayStatus(False, None, 0, None))
    assert STOPPED_COLOUR in stopped and "Stopped" in stopped and OK_COLOUR not in stopped
    assert requests_text(running) == "3 requests served, up 12 s."


def test_copy_script_writes_the_clipboard() -> None:
    script = copy_key_js('k"</script>')
    assert "navigator.clipboard.writeText(text)" in script
    assert json.dumps('k"</script>') in script


# ---- the panel --------------------------------------------------------------------------------


def test_gateway_panel_defaults_to_the_kernel_runtime(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(gateway, "get_runtime", lambda: runtime)
    widget = gateway_panel()
    try:
        assert isinstance(widget, ipywidgets.VBox) and widget.runtime is runtime
    finally:
        widget.close()


def test_start_serve_refresh_and_stop(runtime: Runtime, panel: GatewayPanel) -> None:
    assert "Stopped" in panel.light.value and panel.stop_button.disabled
    assert "http://127.0.0.1:23333" in panel.snippet_views["curl"].value  # the configured address
    panel.port.value = 0

    panel.start_button.click()

    url = runtime.gateway.url
    assert url is not None and runtime.gateway.port != 0
    assert panel.port.value == runtime.gateway.port  # the real port, not the 0 typed
    assert httpx.get(f"{url}/health", timeout=5).status_code == 200
    assert OK_COLOUR in panel.light.value and url in panel.light.value
    assert "listening on" in panel.message.value
    assert panel.start_button.disabled and not panel.stop_button.disabled
    assert "cs-sk-…6789" in panel.key.value
    for view in panel.snippet_views.values():
        assert url in view.value
    assert "sim:sim-chat" in panel.snippet_views["Claude Code"].value
    # the background refresh picks up requests without anyone pressing Refresh
    assert panel.auto_refreshing
    # ... and counts only API requests: not health checks, docs or refused keys.
    headers = {"authorization": f"Bearer {GATEWAY_KEY}"}
    assert httpx.get(f"{url}/v1/models", headers=headers, timeout=5).status_code == 200
    assert httpx.get(f"{url}/api-docs.json", timeout=5).status_code == 200
    assert httpx.get(f"{url}/v1/models", timeout=5).status_code in (401, 403)
    body = {"model": "sim:sim-chat", "messages": [{"role": "user", "content": "hi"}]}
    assert httpx.post(f"{url}/v1/chat/completions", json=body, timeout=5).status_code in (401, 403)
    answered = httpx.post(f"{url}/v1/chat/completions", json=body, headers=headers, timeout=5)
    assert answered.status_code not in (401, 403)  # served (whatever the upstream said)
    assert wait_for(lambda: panel.requests.value.startswith("2 requests")), panel.requests.value
    assert widgets_holding(GATEWAY_KEY) == []

    panel.stop_button.click()

    assert not runtime.gateway.running and not panel.auto_refreshing
    assert "Stopped" in panel.light.value and STOPPED_COLOUR in panel.light.value
    assert "gateway is stopped" in panel.requests.value
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"{url}/health", timeout=5)


def test_refresh_button_shows_a_gateway_started_elsewhere(
    runtime: Runtime, panel: GatewayPanel
) -> None:
    url = runtime.gateway.start(port=0)  # e.g. by `%chat server start`
    assert "Stopped" in panel.light.value
    panel.refresh_button.click()
    assert url in panel.light.value and panel.requests.value.startswith("0 requests")
    assert panel.auto_refreshing  # and keeps it up to date from now on
    httpx.get(f"{url}/health", timeout=5)  # not an API request: not counted
    key = runtime.gateway.api_key
    httpx.get(f"{url}/v1/models", headers={"authorization": f"Bearer {key}"}, timeout=5)
    panel.refresh_button.click()
    assert panel.requests.value.startswith("1 request served")


def test_the_ticker_stops_when_the_gateway_is_stopped_elsewhere(
    runtime: Runtime, panel: GatewayPanel
) -> None:
    panel.port.value = 0
    panel.start_button.click()
    assert panel.auto_refreshing
    runtime.gateway.stop()
    assert wait_for(lambda: not panel.auto_refreshing)
    assert "Stopped" in panel.light.value


def test_closing_the_panel_stops_its_thread_not_the_gateway(runtime: Runtime) -> None:
    runtime.gateway.start(port=0)
    widget = GatewayPanel(runtime, refresh_interval=0.05, environ={})
    assert widget.auto_refreshing  # already running: refreshes from the start
    widget.close()
    assert not widget.auto_refreshing and runtime.gateway.running


def test_jupyterhub_proxied_url_is_shown(runtime: Runtime) -> None:
    widget = GatewayPanel(
        runtime, refresh_interval=0.05, environ={"JUPYTERHUB_SERVICE_PREFIX": "/user/ada/"}
    )
    try:
        widget.port.value = 0
        widget.start_button.click()
        assert f"/user/ada/proxy/{runtime.gateway.port}/" in widget.light.value
        assert runtime.gateway.url in widget.light.value
    finally:
        widget.close()


def test_a_busy_port_is_a_message_not_a_traceback(panel: GatewayPanel) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        panel.port.value = busy.getsockname()[1]
        panel.start_button.click()
    assert "already in use" in panel.message.value
    assert "Stopped" in panel.light.value and not panel.auto_refreshing


def test_copy_key_sends_it_once_and_keeps_it_out_of_widget_state(
    panel: GatewayPanel, monkeypatch: pytest.MonkeyPatch
) -> None:
    # display is replaced, so the Output never holds anything here: what is checked is
    # that the panel clears it right after showing the script.
    calls: list[tuple[str, object]] = []
    monkeypatch.setattr(gateway, "display", lambda obj: calls.append(("display", obj)))
    clear_output = panel._clipboard.clear_output

    def spy(*args: object, **kwargs: object) -> None:
        calls.append(("clear_output", None))
        clear_output(*args, **kwargs)

    monkeypatch.setattr(panel._clipboard, "clear_output", spy)

    panel.copy_button.click()

    assert [name for name, _ in calls] == ["display", "clear_output"]
    assert GATEWAY_KEY in calls[0][1].data  # type: ignore[attr-defined]
    assert "Copied" in panel.message.value
    assert widgets_holding(GATEWAY_KEY) == []


def test_a_key_is_generated_when_none_is_configured(tmp_path: Path) -> None:
    rt = Runtime(ProviderRegistry(tmp_path / "fresh.json"))
    widget = GatewayPanel(rt, environ={})
    try:
        assert "generated when the gateway first starts" in widget.key.value
        assert rt.registry.config.server.api_key is None  # showing the panel writes nothing
        widget.port.value = 0
        widget.start_button.click()
        key = ProviderRegistry(rt.registry.path).config.server.api_key
        assert key is not None and key.startswith("cs-sk-")
        assert widgets_holding(key) == [] and key[-4:] in widget.key.value
    finally:
        widget.close()
        rt.close()


# ---- live usage ---------------------------------------------------------------------------


def test_usage_html_lists_providers_busiest_first() -> None:
    from cherry_nb.ledger.recorder import LiveTotals
    from cherry_nb.notebook.widgets.usage_chart import NO_USAGE, sparkline_svg, usage_html

    assert NO_USAGE in usage_html({}, [])
    page = usage_html(
        {
            "quiet<b>": LiveTotals(requests=1, duration_ms=40),
            "busy": LiveTotals(requests=3, errors=1, input_tokens=1200, duration_ms=300),
        },
        [0, 2, 1],
    )
    assert page.index("busy") < page.index("quiet&lt;b&gt;")  # escaped, and busiest first
    assert ">1,200<" in page and ">100<" in page  # tokens; mean latency 300/3
    assert "<svg" in page and "polyline" in page
    assert sparkline_svg([5]) == ""  # one point is not a line


def test_the_panel_shows_live_usage_per_provider(runtime: Runtime, panel: GatewayPanel) -> None:
    from cherry_nb.ledger.records import UsageRecord

    panel.port.value = 0
    panel.start_button.click()
    recorder = runtime.gateway.recorder
    assert recorder is not None
    assert "No requests recorded" in panel.usage.view.value
    for status in (200, 200, 502):
        recorder.record(
            UsageRecord(
                time.time(), "/v1/messages", "anthropic", None, "sim", "sim-chat", status,
                input_tokens=7, output_tokens=3, duration_ms=90,
            )
        )  # fmt: skip
    # the background refresh redraws it without anyone pressing Refresh
    assert wait_for(lambda: ">sim<" in panel.usage.view.value), panel.usage.view.value
    page = panel.usage.view.value
    assert ">3<" in page and ">21<" in page and ">90<" in page  # requests, input tokens, ms
    assert wait_for(lambda: len(panel.usage.history) >= 2)
    assert "<svg" in panel.usage.view.value

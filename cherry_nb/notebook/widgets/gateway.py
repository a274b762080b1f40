"""The gateway panel: start/stop, status, address, key and ready-to-paste client snippets.

The gateway key never sits in a widget: the panel shows its mask, the snippets
read it from the CHERRY_NB_GATEWAY_KEY environment variable, and "Copy key"
sends it to the browser once, as a Javascript output that writes the clipboard
and is cleared at once, so it is not saved with the notebook.

While the gateway runs, a small daemon thread refreshes the request count and the
live usage per provider (`usage_chart.py`) every couple of seconds; it stops when the
gateway stops or the panel is closed.
"""

from __future__ import annotations

import html
import json
import logging
import os
import shlex
import threading
from collections.abc import Mapping

import ipywidgets as w
from IPython.display import Javascript, display

from ...config.models import Config
from ...gateway.hosts import proxy_path
from ...gateway.server import GatewayStatus
from ..runtime import Runtime, get_runtime
from ._common import MUTED_COLOUR, OK_COLOUR, close_tree, error_text, status_html
from .usage_chart import UsageChart

log = logging.getLogger("cherry_nb.notebook")

KEY_ENV = "CHERRY_NB_GATEWAY_KEY"
REFRESH_SECONDS = 2.0
STOPPED_COLOUR = "#8c959f"
SNIPPET_TITLES = ("OpenAI SDK", "Anthropic SDK", "curl", "Claude Code")
_PRE = f'<pre style="margin:4px 0;padding:6px;border:1px solid {STOPPED_COLOUR}">{{}}</pre>'

# ---- pure helpers -------------------------------------------------------------------------


def public_url(port: int, environ: Mapping[str, str]) -> str | None:
    """The path under JupyterHub/Binder where jupyter-server-proxy forwards to `port`.

    None outside JupyterHub (no JUPYTERHUB_SERVICE_PREFIX). The path is relative
    to the hub's own address, e.g. /user/ada/proxy/23333/. The gateway's Host check
    accepts requests forwarded from this very path (gateway/hosts.py).
    """
    return proxy_path(port, environ)


def example_model(config: Config) -> str:
    """A `provider-id:model-id` for the snippets: the default, else the first enabled one."""
    if config.default_model:
        return config.default_model
    for provider in config.providers:
        if provider.enabled and provider.models:
            return f"{provider.id}:{provider.models[0].id}"
    return "provider-id:model-id"


def snippets(base_url: str, model: str) -> dict[str, str]:
    """Client code for the gateway at `base_url`, reading the key from $CHERRY_NB_GATEWAY_KEY.

    Keyed by SNIPPET_TITLES; none contains the key itself.
    """
    py_model = json.dumps(model)
    payload = json.dumps({"model": model, "messages": [{"role": "user", "content": "Hello!"}]})
    return {
        "OpenAI SDK": (
            "import os\nfrom openai import OpenAI\n\n"
            f'client = OpenAI(base_url="{base_url}/v1", api_key=os.environ["{KEY_ENV}"])\n'
            "reply = client.chat.completions.create(\n"
            f'    model={py_model}, messages=[{{"role": "user", "content": "Hello!"}}]\n'
            ")\nprint(reply.choices[0].message.content)\n"
        ),
        "Anthropic SDK": (
            "import os\nfrom anthropic import Anthropic\n\n"
            f'client = Anthropic(base_url="{base_url}", api_key=os.environ["{KEY_ENV}"])\n'
            "message = client.messages.create(\n"
            f"    model={py_model},\n    max_tokens=1024,\n"
            '    messages=[{"role": "user", "content": "Hello!"}],\n'
            ")\nprint(message.content[0].text)\n"
        ),
        "curl": (
            f"curl {base_url}/v1/chat/completions \\\n"
            f'  -H "Authorization: Bearer ${KEY_ENV}" \\\n'
            '  -H "Content-Type: application/json" \\\n'
            f"  -d {shlex.quote(payload)}\n"
        ),
        "Claude Code": (
            f"export ANTHROPIC_BASE_URL={base_url}\n"
            f'export ANTHROPIC_AUTH_TOKEN="${KEY_ENV}"\n'
            f"export ANTHROPIC_MODEL={shlex.quote(model)}\n"
            "claude\n"
        ),
    }


def status_line_html(status: GatewayStatus, proxied: str | None = None) -> str:
    """The status light (green running, grey stopped), the URL and the proxied path."""
    if not status.running:
        return f'<span style="color:{STOPPED_COLOUR}">●</span> Stopped'
    line = (
        f'<span style="color:{OK_COLOUR}">●</span> Running at '
        f"<code>{html.escape(status.url or '')}</code>"
    )
    if proxied:
        line += (
            f" · through JupyterHub: <code>{html.escape(proxied)}</code> "
            f'<span style="color:{MUTED_COLOUR}">(on the hub\'s address, via '
            "jupyter-server-proxy; from outside this server, add the Jupyter token as "
            "<code>?token=…</code> besides the gateway key)</span>"
        )
    return line


def requests_text(status: GatewayStatus) -> str:
    if not status.running:
        return "No requests: the gateway is stopped."
    uptime = f", up {status.uptime_seconds:.0f} s" if status.uptime_seconds is not None else ""
    plural = "" if status.requests == 1 else "s"
    return f"{status.requests} request{plural} served{uptime}."


def copy_key_js(key: str) -> str:
    """Javascript that puts `key` in the clipboard (with a fallback outside secure contexts)."""
    return (
        "(function (text) {\n"
        "  function fallback() {\n"
        "    const area = document.createElement('textarea');\n"
        "    area.value = text; area.style.position = 'fixed'; area.style.opacity = '0';\n"
        "    document.body.appendChild(area); area.select();\n"
        "    try { document.execCommand('copy'); } finally { area.remove(); }\n"
        "  }\n"
        "  if (navigator.clipboard && window.isSecureContext) {\n"
        "    navigator.clipboard.writeText(text).catch(fallback);\n"
        "  } else { fallback(); }\n"
        f"}})({json.dumps(key)});"
    )


KEY_HELP = (
    f"The snippets read the key from the environment variable {KEY_ENV}. In this kernel: "
    f'<code>os.environ["{KEY_ENV}"] = cherry_nb.gateway_key()</code>; in a terminal: '
    f"<code>export {KEY_ENV}=$(python -c 'import cherry_nb; print(cherry_nb.gateway_key())')"
    "</code>. Or press Copy key."
)

# ---- the panel ------------------------------------------------------------------------------


class GatewayPanel(w.VBox):
    """Start and stop the kernel's gateway and show how clients connect to it."""

    def __init__(
        self,
        runtime: Runtime,
        *,
        refresh_interval: float = REFRESH_SECONDS,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.runtime = runtime
        self.gateway = runtime.gateway
        self.refresh_interval = refresh_interval
        self._environ = os.environ if environ is None else environ
        self._ticker: threading.Thread | None = None
        self._halt = threading.Event()
        self._lock = threading.Lock()

        self.light = w.HTML()
        self.port = w.BoundedIntText(
            value=runtime.registry.config.server.port,
            min=0,
            max=65535,
            description="Port",
            tooltip="0 picks a free port",
        )
        self.start_button = w.Button(description="Start", button_style="success", icon="play")
        self.stop_button = w.Button(description="Stop", icon="stop")
        self.key = w.HTML()
        self.copy_button = w.Button(description="Copy key", icon="copy")
        self.requests = w.Label()
        self.refresh_button = w.Button(description="Refresh", icon="refresh")
        self.usage = UsageChart()
        self.message = w.HTML()
        self.snippet_views = {title: w.HTML() for title in SNIPPET_TITLES}
        self.snippet_tab = w.Tab(
            children=list(self.snippet_views.values()), titles=list(self.snippet_views)
        )
        self._clipboard = w.Output()  # receives the one-shot copy script, cleared at once
        self.start_button.on_click(self._start)
        self.stop_button.on_click(self._stop)
        self.copy_button.on_click(self._copy_key)
        self.refresh_button.on_click(self._refresh)
        super().__init__(
            [
                w.HTML("<b>API gateway</b> (OpenAI and Anthropic formats, all enabled providers)"),
                w.HBox([self.port, self.start_button, self.stop_button]),
                self.light,
                w.HBox([self.requests, self.refresh_button]),
                self.usage.view,
                w.HBox([self.key, self.copy_button]),
                w.HTML(f'<div style="color:{MUTED_COLOUR}">{KEY_HELP}</div>'),
                self.message,
                self.snippet_tab,
                self._clipboard,
            ]
        )
        self.refresh()
        if self.gateway.running:
            self._start_ticker()

    # ---- state --------------------------------------------------------------------------

    def base_url(self) -> str:
        """The running gateway's URL, else the configured one it would use."""
        if self.gateway.url:
            return self.gateway.url
        server = self.runtime.registry.config.server
        host = f"[{server.host}]" if ":" in server.host else server.host
        return f"http://{host}:{self.port.value or server.port}"

    def refresh(self) -> None:
        """Update the light, URL, request count, key hint and snippets from the gateway."""
        with self._lock:
            status = self.gateway.status()
            port = self.gateway.port if status.running else None
            if port:
                self.port.value = port  # the real port, when started with 0
            proxied = public_url(port, self._environ) if port else None
            self.light.value = status_line_html(status, proxied)
            self.requests.value = requests_text(status)
            recorder = self.gateway.recorder
            self.usage.update(recorder.live() if recorder is not None else {})
            self.start_button.disabled = status.running
            self.stop_button.disabled = not status.running
            configured = self.runtime.registry.config.server.api_key
            if status.running or configured:
                hint = f"Key: <code>{html.escape(self.gateway.masked_key)}</code>"
            else:
                hint = "Key: generated when the gateway first starts."
            self.key.value = hint
            texts = snippets(self.base_url(), example_model(self.runtime.registry.config))
            for title, text in texts.items():
                self.snippet_views[title].value = _PRE.format(html.escape(text))

    # ---- actions ------------------------------------------------------------------------

    def _refresh(self, _: object) -> None:
        self.refresh()
        if self.gateway.running:  # e.g. started by `%chat server start`
            self._start_ticker()

    def _start(self, _: object) -> None:
        try:
            url = self.gateway.start(port=self.port.value)
        except Exception as exc:  # shown in the panel, never as a traceback
            self.message.value = status_html(error_text(exc), ok=False)
        else:
            self.message.value = status_html(f"Gateway listening on {url}.", ok=True)
        self.refresh()
        if self.gateway.running:
            self._start_ticker()

    def _stop(self, _: object) -> None:
        self._stop_ticker()
        try:
            self.gateway.stop()
        except Exception as exc:  # shown in the panel, never as a traceback
            self.message.value = status_html(error_text(exc), ok=False)
        else:
            self.message.value = status_html("Gateway stopped.")
        self.refresh()

    def _copy_key(self, _: object) -> None:
        try:
            key = self.gateway.api_key  # generated and saved when there is none yet
        except Exception as exc:  # e.g. the config file cannot be written
            self.message.value = status_html(error_text(exc), ok=False)
            return
        with self._clipboard:
            display(Javascript(copy_key_js(key)))
            self._clipboard.clear_output()
        self.message.value = status_html("Copied the gateway key to the clipboard.", ok=True)
        self.refresh()

    # ---- automatic refresh ----------------------------------------------------------------

    def _start_ticker(self) -> None:
        if self._ticker is not None and self._ticker.is_alive():
            return
        self._halt = halt = threading.Event()
        self._ticker = threading.Thread(
            target=self._tick, args=(halt,), name="cherry-nb-gateway-panel", daemon=True
        )
        self._ticker.start()

    def _tick(self, halt: threading.Event) -> None:
        while not halt.wait(self.refresh_interval):
            try:
                self.refresh()
            except Exception:  # a refresh must never kill the kernel's thread noisily
                log.debug("gateway panel refresh failed", exc_info=True)
            if not self.gateway.running:
                return

    def _stop_ticker(self) -> None:
        self._halt.set()
        ticker, self._ticker = self._ticker, None
        if ticker is not None and ticker is not threading.current_thread():
            ticker.join(timeout=self.refresh_interval + 5)

    @property
    def auto_refreshing(self) -> bool:
        """Whether the background refresh is running."""
        return self._ticker is not None and self._ticker.is_alive()

    def close(self) -> None:
        """Stop the background refresh (the gateway keeps running) and close the panel."""
        self._stop_ticker()
        for child in self.children:
            close_tree(child)
        super().close()


def gateway_panel(runtime: Runtime | None = None) -> GatewayPanel:
    """The gateway panel for this kernel's gateway; display it, or leave it last in a cell."""
    return GatewayPanel(runtime or get_runtime())

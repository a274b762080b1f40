"""Finding OpenAI-compatible servers already running on this machine.

Each usual port (presets.LOCAL_SERVER_PORTS) is asked `GET /v1/models`, and
Ollama's own `GET /api/tags` when that fails, all at once with short timeouts,
so a sweep costs about a second even when nothing answers. Only loopback
addresses are ever probed, and never through a proxy: this looks at the
user's own machine, nowhere else.
"""

from __future__ import annotations

import asyncio
import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

from ..config.presets import LOCAL_SERVER_PORTS, PRESETS

PROBE_TIMEOUT = httpx.Timeout(connect=0.3, read=1.0, write=1.0, pool=1.0)

# `owned_by` values some servers put in their model list: they say which server
# answered when two share a port (TGI and llama.cpp both default to 8080).
_OWNER_PRESETS = {"vllm": "vllm", "llamacpp": "llamacpp", "library": "ollama"}


@dataclass(frozen=True, slots=True)
class LocalServer:
    """A server that answered on 127.0.0.1, and the models it listed."""

    key: str  # the preset key (vllm, ollama, ...) or the name the port was given
    port: int
    base_url: str  # the OpenAI-compatible base to configure, e.g. http://127.0.0.1:8000/v1
    models: tuple[str, ...] = ()
    needs_key: bool = False  # it answered 401/403: started with an API key

    @property
    def label(self) -> str:
        """The preset's display name (vLLM, Ollama, ...), else the key."""
        preset = PRESETS.get(self.key)
        return preset.label if preset is not None else self.key


async def detect_local_servers(
    ports: Mapping[str, int] | None = None, host: str = "127.0.0.1"
) -> list[LocalServer]:
    """Probe `ports` (default: the usual ports of local servers) on `host`, concurrently.

    Returns the servers that answered, in the order of `ports`; a port shared by
    several names is probed once. `host` must be a loopback address (ValueError
    otherwise): detection never reaches beyond this machine.
    """
    _require_loopback(host)
    wanted = dict(LOCAL_SERVER_PORTS if ports is None else ports)
    by_port: dict[int, str] = {}
    for key, port in wanted.items():
        by_port.setdefault(port, key)
    # trust_env=False: a configured HTTP(S)_PROXY must never see these requests.
    async with httpx.AsyncClient(timeout=PROBE_TIMEOUT, trust_env=False) as client:
        found = await asyncio.gather(
            *(_probe(client, host, port, key) for port, key in by_port.items())
        )
    return [server for server in found if server is not None]


def _require_loopback(host: str) -> None:
    try:
        loopback = ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        loopback = False
    if not loopback:
        raise ValueError(
            f"Local server detection only probes loopback addresses such as 127.0.0.1, "
            f"not {host!r}."
        )


async def _probe(client: httpx.AsyncClient, host: str, port: int, key: str) -> LocalServer | None:
    origin = f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"
    base_url = f"{origin}/v1"
    try:
        response = await client.get(f"{base_url}/models")
    except httpx.HTTPError:
        return None  # nothing listens there (or it is too slow to be a usable server)
    if response.status_code in (401, 403):
        return LocalServer(key, port, base_url, needs_key=True)
    listed = _openai_models(response)
    if listed is not None:
        models, owners = listed
        detected = next((_OWNER_PRESETS[o] for o in owners if o in _OWNER_PRESETS), key)
        return LocalServer(detected, port, base_url, models)
    try:
        tags = await client.get(f"{origin}/api/tags")  # Ollama's own model list
    except httpx.HTTPError:
        return None
    ollama_models = _ollama_models(tags)
    if ollama_models is None:
        return None
    return LocalServer("ollama", port, base_url, ollama_models)  # only Ollama answers /api/tags


def _openai_models(response: httpx.Response) -> tuple[tuple[str, ...], set[str]] | None:
    """Model ids and `owned_by` values of an OpenAI `/v1/models` reply; None if it isn't one."""
    data = _json(response)
    items = data.get("data") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    models = [m["id"] for m in items if isinstance(m, dict) and isinstance(m.get("id"), str)]
    owners = {m.get("owned_by") for m in items if isinstance(m, dict)}
    return tuple(models), {o for o in owners if isinstance(o, str)}


def _ollama_models(response: httpx.Response) -> tuple[str, ...] | None:
    data = _json(response)
    items = data.get("models") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    return tuple(m["name"] for m in items if isinstance(m, dict) and isinstance(m.get("name"), str))


def _json(response: httpx.Response) -> Any:
    if response.status_code != 200:
        return None
    try:
        return response.json()
    except ValueError:
        return None

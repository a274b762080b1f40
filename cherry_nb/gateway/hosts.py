"""Which Host headers the gateway answers: the defence against DNS rebinding.

A web page can make a browser send requests to the gateway on 127.0.0.1 by pointing a
name it controls (evil.example) at 127.0.0.1 once the page has loaded; the browser then
treats the gateway as the page's own origin and lets the page read the replies. Such a
request always carries the attacker's NAME as its Host. So the gateway answers only:

- an IP literal (v4, or v6 in brackets), with any port: a rebinding needs a name, and an
  IP literal also covers port forwards (docker -p 8080:23333) and LAN clients when the
  gateway listens on 0.0.0.0;
- `localhost` (a page can only send it from a page on localhost);
- a name in `server.allowed_hosts` (`name` for any port, or `name:port`);
- a request forwarded by jupyter-server-proxy under JupyterHub/Binder, which keeps the
  hub's own Host: recognised by its `X-Forwarded-Context` naming this gateway's proxy path
  (`{JUPYTERHUB_SERVICE_PREFIX}proxy/{port}`), as only the kernel's own hub can.

A request without a Host header (HTTP/1.0) carries no name to rebind with and is let in.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterable, Mapping

_LOCAL_NAMES = frozenset({"localhost"})


def proxy_path(port: int, environ: Mapping[str, str] | None = None) -> str | None:
    """The path under JupyterHub where jupyter-server-proxy forwards to `port`
    (e.g. /user/ada/proxy/23333/), or None outside JupyterHub."""
    env = os.environ if environ is None else environ
    prefix = env.get("JUPYTERHUB_SERVICE_PREFIX", "").strip()
    if not prefix:
        return None
    prefix = "/" + prefix.strip("/") + "/" if prefix.strip("/") else "/"
    return f"{prefix}proxy/{port}/"


def split_host(value: str) -> tuple[str, str | None]:
    """A Host header's (name, port): lowercased, one trailing dot dropped, IPv6 unbracketed."""
    value = value.strip().lower()
    if value.startswith("["):
        name, _, rest = value[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else None
        return name, port
    name, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or ":" in name:
        name, port = value, ""
    return name.removesuffix("."), port or None


def is_ip_literal(name: str) -> bool:
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return False
    return True


class HostPolicy:
    """`allows(host, forwarded_context, port)` for one gateway's configured names."""

    __slots__ = ("_names", "_names_with_port")

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        names: set[str] = set(_LOCAL_NAMES)
        with_port: set[tuple[str, str]] = set()
        for entry in allowed_hosts:
            name, port = split_host(entry)
            if port is None:
                names.add(name)
            else:
                with_port.add((name, port))
        self._names = frozenset(names)
        self._names_with_port = frozenset(with_port)

    def allows(self, host: str | None, forwarded_context: str | None, port: int | None) -> bool:
        if host is None:
            return True
        name, host_port = split_host(host)
        if name in self._names or is_ip_literal(name):
            return True
        if host_port is not None and (name, host_port) in self._names_with_port:
            return True
        if forwarded_context and port is not None:
            expected = proxy_path(port)
            return expected is not None and forwarded_context.rstrip("/") == expected.rstrip("/")
        return False

"""The relay floor: the least a streaming relay can do, on the gateway's Hypercorn.

    python bench/relay_floor.py --port PORT --upstream http://127.0.0.1:SIM/v1/chat/completions

Every POST is sent on to `--upstream` as it came (body and Authorization header), with
the gateway's own upstream client (`providers.base.new_client`: the plain-http
transport, its pool, `open` as the gateway sends), and each read of the reply is sent
back as it arrives: no auth, no parsing, no usage. The held-streams phase runs it
beside the gateway, so a stall both show is the machine's (2 cores for the client, the
simulator and a relay), and what only the gateway shows is the gateway's.
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

import httpx
from hypercorn.asyncio import serve

from cherry_nb.gateway.server import bind_socket, hypercorn_config
from cherry_nb.providers.base import new_client


def relay(upstream: str) -> Any:
    client = new_client()
    url = httpx.URL(upstream)

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            while (await receive())["type"] != "lifespan.shutdown":
                await send({"type": "lifespan.startup.complete"})
            await send({"type": "lifespan.shutdown.complete"})
            return
        if scope["method"] != "POST":  # /health
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"ok"})
            return
        body, more = b"", True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        auth = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        headers = {"authorization": auth, "content-type": "application/json"}
        response = await client.open(client.request_for("POST", url, body, headers))
        try:
            kind = response.headers.get("content-type", "").encode("latin-1")
            start = {"type": "http.response.start", "status": response.status_code}
            await send({**start, "headers": [(b"content-type", kind)]})
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        finally:
            await response.aclose()

    return app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--upstream", required=True, help="the URL every POST is relayed to")
    args = parser.parse_args()
    config = hypercorn_config(bind_socket(args.host, args.port))
    asyncio.run(serve(relay(args.upstream), config))


if __name__ == "__main__":
    main()

"""The floor: a minimal ASGI app on the gateway's own Hypercorn configuration.

    python bench/floor.py --port PORT [--workers N]

It reads the request body and answers every POST with one fixed chat completion,
GET /health with `ok`. No gateway built on this Hypercorn can beat it, so the bench
reports the gateway's throughput as a fraction of it. It runs like `cherry-nb serve`:
the socket bound by `bind_socket`, the settings of `hypercorn_config`, asyncio's loop;
with `--workers N`, the same workers (`gateway.workers`: a socket each), so that the
floor's gain from N workers is what this machine allows any gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

from hypercorn.asyncio import serve

from cherry_nb.gateway.server import bind_socket, hypercorn_config
from cherry_nb.gateway.workers import run_workers, worker_sockets

COMPLETION = json.dumps(
    {
        "id": "chatcmpl-floor",
        "object": "chat.completion",
        "created": 1700000000,
        "model": "sim-chat",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": "Hello! How can I help you today?"},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 8, "total_tokens": 11},
    },
    separators=(",", ":"),
).encode()
JSON_HEAD = [(b"content-type", b"application/json")]


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    more = True
    while more:  # the whole body, as any real handler reads it
        message = await receive()
        more = message.get("more_body", False)
    body = COMPLETION if scope["method"] == "POST" else b"ok"
    headers = [*JSON_HEAD, (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": 200, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    if args.workers <= 1:
        config = hypercorn_config(bind_socket(args.host, args.port))
        asyncio.run(serve(app, config))  # type: ignore[arg-type]
        return
    config = hypercorn_config(None, workers=args.workers)
    config.application_path = "floor:app"  # spawned workers import it (bench/ is on sys.path)
    raise SystemExit(
        run_workers(config, worker_sockets(args.host, args.port, args.workers), args.workers)
    )


if __name__ == "__main__":
    main()

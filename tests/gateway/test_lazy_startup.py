"""The gateway starts without building its OpenAPI document (pydantic schemas of every
route), and builds it at the first request for it: the docs still serve.

Fresh processes: whether a module is imported is only meaningful in a process that
has not imported it yet.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

GATEWAY_KEY = "cs-sk-lazy-startup-0123456789"

#: A gateway served on real Hypercorn, in a thread of a fresh interpreter: which of the
#: OpenAPI modules are imported after start and /health, then after /api-docs.json.
SCRIPT = """
import json, sys
from pathlib import Path
import httpx
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer

docs = ("cherry_nb.gateway.openapi", "cherry_nb.gateway.schemas")
server = GatewayServer(ProviderRegistry(Path(sys.argv[1])))
url = server.start(port=0)
try:
    health = httpx.get(url + "/health", timeout=30).status_code
    at_start = [m for m in docs if m in sys.modules]
    document = httpx.get(url + "/api-docs.json", timeout=30)
    print(json.dumps({
        "health": health,
        "at_start": at_start,
        "docs_status": document.status_code,
        "paths": sorted(document.json()["paths"]),
        "after_docs": [m for m in docs if m in sys.modules],
    }))
finally:
    server.stop()
"""


def test_the_openapi_document_is_built_at_its_first_request(tmp_path: Path):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / "c.json")],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["health"] == 200
    assert result["at_start"] == []
    assert result["docs_status"] == 200 and "/v1/chat/completions" in result["paths"]
    assert result["after_docs"] == ["cherry_nb.gateway.openapi", "cherry_nb.gateway.schemas"]


#: What a gateway process imports up to a created app, in a fresh interpreter: `cherry-nb
#: serve` (the CLI module, then the app) or a worker of `--workers N` (gateway/asgi.py).
SERVE_IMPORTS = {
    "serve": """
import cherry_nb.cli
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.app import create_app
from cherry_nb.gateway.cli import serve

create_app(ProviderRegistry(), api_key="cs-sk-lazy-startup-0123456789")
""",
    "worker": "import cherry_nb.gateway.asgi",
}
REPORT = """
import json, sys
loaded = [m for m, module in sys.modules.items() if module is not None]  # None: blocked
print(json.dumps(sorted(m for m in loaded if m.partition(".")[0] in sys.argv[1:])))
"""


@pytest.mark.parametrize("process", sorted(SERVE_IMPORTS))
def test_a_gateway_loads_no_http_client_cli_no_file_lock_and_no_openapi_builder(
    tmp_path: Path, process: str
):
    # pygments comes with IPython, so it is installed: only httpx's command-line client
    # (httpx._main) would import it here. filelock is for writers of the config only.
    watched = ["pygments", "rich", "filelock", "cherry_nb", "httpx"]
    env = {
        **os.environ,
        "CHERRY_NB_CONFIG": str(tmp_path / "c.json"),
        "CHERRY_NB_GATEWAY_KEY": GATEWAY_KEY,
    }
    done = subprocess.run(
        [sys.executable, "-c", SERVE_IMPORTS[process] + REPORT, *watched],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    loaded = set(json.loads(done.stdout.strip().splitlines()[-1]))
    assert "httpx" in loaded and "cherry_nb.gateway.chat_routes" in loaded  # not vacuous
    assert not {"pygments", "rich", "filelock", "httpx._main"} & loaded
    assert not {"cherry_nb.gateway.openapi", "cherry_nb.gateway.schemas"} & loaded


def test_cli_serve_still_serves_the_docs_page_and_both_documents(tmp_path: Path):
    env = {**os.environ, "CHERRY_NB_CONFIG": str(tmp_path / "c.json")}
    proc = subprocess.Popen(
        [sys.executable, "-m", "cherry_nb", "serve", "--port", "0", "--api-key", GATEWAY_KEY],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        url = proc.stdout.readline().strip().removeprefix("Listening on ")  # type: ignore[union-attr]
        assert url.startswith("http://127.0.0.1:")
        assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        page = httpx.get(f"{url}/api-docs", timeout=30)
        assert page.status_code == 200 and "swagger-init.js" in page.text
        doc = httpx.get(f"{url}/api-docs.json", timeout=30).json()
        assert doc["openapi"].startswith("3.1")
        validate(doc)
        older = httpx.get(f"{url}/api-docs/openapi-3.0.json", timeout=30).json()
        assert older["openapi"].startswith("3.0.")
        validate(older)
        assert set(older["paths"]) == set(doc["paths"])
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=15)
    assert proc.returncode == 0
    assert "Traceback" not in stderr

"""Harness for the clients users run: a real gateway, a capturing proxy, client subprocesses.

The gateway (Hypercorn in a thread) fronts one simulator-backed provider of every kind in
`cherry_nb.config.kinds` that the simulator speaks, so a new kind is tested by every client
as soon as the simulator answers for it. Clients reach the gateway through `CaptureProxy`,
a byte-for-byte TCP relay that also parses what the client sent: tests assert on it, and
with CHERRY_NB_RECORD_CLIENTS=1 they store it in fixtures/ (client version in the name).

Node clients (Claude Code, Codex, the Vercel AI SDK) are installed by `npm ci` from the
committed package-lock.json into tests/clients/node_modules (or CHERRY_NB_CLIENTS_NODE_DIR).
Without node/npm the tests skip locally and fail under CI=true, like tests/browser.
Each client runs as a subprocess with a timeout, an isolated HOME and a scrubbed environment
(no real key or base URL of the user's can leak in, nothing reaches outside hosts).
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import h11
import pytest

from cherry_nb.config.kinds import PROVIDER_TYPES as KINDS
from cherry_nb.config.kinds import get_kind
from cherry_nb.config.registry import ProviderRegistry
from cherry_nb.gateway.server import GatewayServer
from cherry_nb.simulator import PROVIDER_TYPES as SIMULATED
from cherry_nb.simulator import SimulatorThread

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
NODE_DIR = Path(os.environ.get("CHERRY_NB_CLIENTS_NODE_DIR", HERE))
IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
RECORD = os.environ.get("CHERRY_NB_RECORD_CLIENTS", "").strip().lower() in ("1", "true", "yes")

SIM_KEY = "sim-upstream-key-0123456789"
GATEWAY_KEY = "cs-sk-clients-gateway-key-0123456789"
MODEL = "sim-chat"
#: Every provider kind, so the list grows with cherry_nb.config.kinds.
UPSTREAMS: tuple[str, ...] = tuple(KINDS)
#: Long enough for a cold start of a Node CLI on a loaded 2-core machine.
CLIENT_TIMEOUT = float(os.environ.get("CHERRY_NB_CLIENT_TIMEOUT", "180"))
#: Only these variables of the caller's environment reach a client.
_KEPT_ENV = ("PATH", "LANG", "LC_ALL", "TZ", "SYSTEMROOT")
_SECRET_HEADERS = ("authorization", "x-api-key", "api-key", "x-goog-api-key")


def unavailable(reason: str) -> None:
    """Skip locally; fail under CI=true, where every client test must run."""
    if IN_CI:
        pytest.fail(f"{reason} -- CI=true, so the client tests must run (.ci/run installs them)")
    pytest.skip(reason)


def provider_id(kind: str) -> str:
    return f"up-{kind}"


def routed(kind: str) -> str:
    """The `provider:model` id that sends a request to the upstream of `kind`."""
    return f"{provider_id(kind)}:{MODEL}"


# -- the capturing proxy ---------------------------------------------------------------


@dataclass(slots=True)
class Captured:
    """One request as the client sent it (header names lower-cased, body decoded), and
    the status the gateway answered it with once the answer has started."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None = None

    @property
    def json(self) -> Any:
        return json.loads(self.body) if self.body else None

    def fixture(self) -> dict[str, Any]:
        """The request as stored in fixtures/, credentials replaced."""
        headers = {
            name: ("<redacted>" if name in _SECRET_HEADERS else value)
            for name, value in self.headers.items()
        }
        return {"method": self.method, "path": self.path, "headers": headers, "body": self.json}


def _decode(body: bytes, encoding: str) -> bytes:
    if encoding == "gzip":
        return gzip.decompress(body)
    if encoding == "zstd":
        import zstandard  # only if a client compresses its requests

        return zstandard.ZstdDecompressor().decompressobj().decompress(body)
    return body


class _RequestReader:
    """Parses the client-to-gateway bytes of one connection into `Captured` requests."""

    def __init__(self, record: Callable[[Captured], None]) -> None:
        self._record = record
        self._conn: h11.Connection | None = h11.Connection(h11.SERVER)
        self._start: h11.Request | None = None
        self._body = bytearray()

    def feed(self, data: bytes) -> None:
        if self._conn is None:
            return
        try:
            self._conn.receive_data(data)
            self._drain()
        except h11.ProtocolError:
            self._conn = None  # not HTTP/1.1 we can follow; keep relaying, stop recording

    def _drain(self) -> None:
        while self._conn is not None:
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                return
            if event is h11.PAUSED:  # one request done; a fresh parser for the next one
                rest = self._conn.trailing_data[0]
                self._conn = h11.Connection(h11.SERVER)
                if rest:
                    self._conn.receive_data(rest)
                    continue
                return
            if isinstance(event, h11.Request):
                self._start, self._body = event, bytearray()
            elif isinstance(event, h11.Data):
                self._body += event.data
            elif isinstance(event, h11.EndOfMessage) and self._start is not None:
                headers = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in self._start.headers
                }
                body = _decode(bytes(self._body), headers.get("content-encoding", ""))
                self._record(
                    Captured(
                        self._start.method.decode(), self._start.target.decode(), headers, body
                    )
                )
                self._start = None
            elif isinstance(event, h11.ConnectionClosed):
                return


@dataclass
class CaptureProxy:
    """A TCP relay on 127.0.0.1 in front of `target`, recording each HTTP request."""

    target_host: str
    target_port: int
    requests: list[Captured] = field(default_factory=list)
    port: int = 0
    _loop: asyncio.AbstractEventLoop | None = None
    _thread: threading.Thread | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> CaptureProxy:
        ready = threading.Event()

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            server = loop.run_until_complete(asyncio.start_server(self._serve, "127.0.0.1", 0))
            self.port = server.sockets[0].getsockname()[1]
            ready.set()
            try:
                loop.run_forever()
            finally:
                server.close()
                # Connections a client keeps alive (pooled) are still being relayed:
                # cancel them, so each closes both its sockets before the loop goes.
                relays = asyncio.all_tasks(loop)
                for task in relays:
                    task.cancel()
                if relays:  # gather() of nothing would look for this thread's loop
                    loop.run_until_complete(asyncio.gather(*relays, return_exceptions=True))
                loop.run_until_complete(server.wait_closed())
                loop.close()

        self._thread = threading.Thread(target=run, name="clients-capture", daemon=True)
        self._thread.start()
        if not ready.wait(10):
            raise RuntimeError("the capture proxy did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def clear(self) -> None:
        with self._lock:
            self.requests.clear()

    def taken(self, path_suffix: str = "") -> list[Captured]:
        """The requests recorded so far whose path (without query) ends with `path_suffix`."""
        with self._lock:
            return [r for r in self.requests if r.path.split("?")[0].endswith(path_suffix)]

    def refused(self) -> list[str]:
        """The requests the gateway answered with a 4xx or 5xx status, as "status method path"."""
        with self._lock:
            return [
                f"{r.status} {r.method} {r.path}"
                for r in self.requests
                if r.status is not None and r.status >= 400
            ]

    def _record(self, request: Captured) -> None:
        with self._lock:
            self.requests.append(request)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.close()
            return
        sent: list[Captured] = []

        def record(request: Captured) -> None:
            sent.append(request)
            self._record(request)

        requests, responses = _RequestReader(record), _ResponseReader(sent)

        async def pipe(
            src: asyncio.StreamReader,
            dst: asyncio.StreamWriter,
            seen: Callable[[bytes], None] | None,
        ) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await src.read(65536):
                    if seen is not None:
                        seen(data)
                    dst.write(data)
                    await dst.drain()
            with contextlib.suppress(OSError):
                dst.close()

        try:
            await asyncio.gather(
                pipe(reader, up_writer, requests.feed), pipe(up_reader, writer, responses.feed)
            )
        finally:
            writer.close()
            up_writer.close()


class _ResponseReader:
    """Follows the gateway-to-client bytes of one connection and sets each request's status.

    HTTP/1.1 answers in order, so the n-th response on a connection answers its n-th request.
    """

    def __init__(self, sent: list[Captured]) -> None:
        self._sent = sent
        self._answered = 0
        self._conn: h11.Connection | None = h11.Connection(h11.CLIENT)
        self._pending = bytearray()

    def feed(self, data: bytes) -> None:
        if self._conn is None:
            return
        self._pending += data
        try:
            self._drain()
        except h11.ProtocolError:
            self._conn = None

    def _drain(self) -> None:
        while self._conn is not None:
            if self._conn.our_state is h11.IDLE:
                if self._answered >= len(self._sent):
                    return  # the answer came before the request was whole; wait
                request = self._sent[self._answered]
                self._conn.send(
                    h11.Request(
                        method=request.method, target=request.path, headers=[("host", "gateway")]
                    )
                )
                self._conn.send(h11.EndOfMessage())
            if self._pending:
                self._conn.receive_data(bytes(self._pending))
                self._pending.clear()
            event = self._conn.next_event()
            if event is h11.NEED_DATA:
                return
            if isinstance(event, h11.Response):
                self._sent[self._answered].status = event.status_code
            elif isinstance(event, h11.EndOfMessage):
                self._answered += 1
                if self._conn.our_state is h11.DONE and self._conn.their_state is h11.DONE:
                    self._conn.start_next_cycle()
                else:
                    self._conn = None  # the gateway closes the connection after this one
            elif isinstance(event, h11.ConnectionClosed):
                return


# -- the gateway --------------------------------------------------------------------------


@dataclass
class ClientStack:
    upstream: SimulatorThread
    registry: ProviderRegistry
    server: GatewayServer
    proxy: CaptureProxy

    @property
    def gateway_url(self) -> str:
        """The gateway's own address (bypasses the capture)."""
        assert self.server.url is not None
        return self.server.url

    @property
    def url(self) -> str:
        """The address clients are given: the capturing proxy in front of the gateway."""
        return self.proxy.url

    def upstream_saw(self, kind: str, text: str) -> list[Any]:
        """The simulator's recorded chat requests on `kind`'s own route whose body holds
        `text` (so a prompt is seen to arrive in that kind's wire format)."""
        route = get_kind(kind).endpoints.chat.split("{")[0].split("?")[0]
        return [r for r in self.upstream.requests if route in r.path and text.encode() in r.body]


def simulator_answered(out: str) -> bool:
    """Whether `out` holds one of the simulator's replies (it quotes what reached it)."""
    return "You said:" in out or "returned:" in out


@pytest.fixture(scope="session")
def client_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ClientStack]:
    upstream = SimulatorThread(api_key=SIM_KEY)
    upstream.start()
    registry = ProviderRegistry(tmp_path_factory.mktemp("clients-gw") / "config.json")
    for kind in UPSTREAMS:
        if kind not in SIMULATED:
            continue  # `upstream` skips it, naming the kind
        registry.add(
            id=provider_id(kind),
            name=f"Upstream {kind}",
            type=kind,
            base_url=upstream.base_url(kind),
            api_key=SIM_KEY,
            models=[MODEL, "sim-fast"],
        )
    # Long client runs (Claude Code, Codex) wait on nothing slow: the simulator answers at once.
    registry.set_server(api_key=GATEWAY_KEY, upstream_read_timeout=30.0)
    server = GatewayServer(registry)
    server.start(port=0)
    assert server.url is not None
    host_port = server.url.removeprefix("http://").rsplit(":", 1)
    proxy = CaptureProxy(host_port[0].strip("[]"), int(host_port[1])).start()
    try:
        yield ClientStack(upstream, registry, server, proxy)
    finally:
        proxy.stop()
        server.stop()
        upstream.stop()


@pytest.fixture
def stack(client_stack: ClientStack) -> ClientStack:
    """The shared stack, with the capture emptied for this test."""
    client_stack.proxy.clear()
    return client_stack


@pytest.fixture(params=UPSTREAMS)
def upstream(request: pytest.FixtureRequest) -> str:
    """Each provider kind in turn (a kind the simulator does not speak yet is skipped)."""
    kind: str = request.param
    if kind not in SIMULATED:
        pytest.skip(f"the simulator does not speak provider kind {kind!r} yet")
    return kind


# -- running clients ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientRun:
    argv: tuple[str, ...]
    returncode: int
    stdout: str
    stderr: str

    def ok(self) -> str:
        """stdout, after failing the test with the whole output on a non-zero exit."""
        if self.returncode != 0:
            pytest.fail(
                f"{self.argv[0]} exited {self.returncode}\n--- stdout\n{self.stdout[-4000:]}"
                f"\n--- stderr\n{self.stderr[-4000:]}"
            )
        return self.stdout


def run_client(
    argv: Sequence[str],
    *,
    home: Path,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = CLIENT_TIMEOUT,
) -> ClientRun:
    """Run a client with an isolated HOME and only the environment given (plus PATH/locale).

    The whole process group is killed on timeout, and the test fails with what it printed.
    """
    home.mkdir(parents=True, exist_ok=True)
    full = {name: os.environ[name] for name in _KEPT_ENV if name in os.environ}
    full.update(
        HOME=str(home),
        XDG_CONFIG_HOME=str(home / ".config"),
        XDG_CACHE_HOME=str(home / ".cache"),
        XDG_DATA_HOME=str(home / ".local" / "share"),
        XDG_STATE_HOME=str(home / ".local" / "state"),
        TMPDIR=str(home),
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        CI="true",  # no interactive prompts, no colours
        NO_COLOR="1",
    )
    full.update(env or {})
    process = subprocess.Popen(
        list(argv),
        cwd=cwd or home,
        env=full,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        stdout, stderr = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        stdout, stderr = process.communicate()
        pytest.fail(
            f"{argv[0]} did not finish within {timeout:g} s\n--- stdout\n{stdout[-4000:]}"
            f"\n--- stderr\n{stderr[-4000:]}"
        )
    return ClientRun(tuple(argv), process.returncode, stdout, stderr)


def _installed_matches_lock(node_dir: Path) -> bool:
    """Whether node_modules holds exactly the versions package-lock.json pins."""
    lock = json.loads((node_dir / "package-lock.json").read_text())
    for name in lock["packages"][""].get("dependencies", {}):
        wanted = lock["packages"].get(f"node_modules/{name}", {}).get("version")
        installed = node_dir / "node_modules" / name / "package.json"
        if not installed.is_file() or json.loads(installed.read_text())["version"] != wanted:
            return False
    return True


@dataclass(frozen=True, slots=True)
class NodeClients:
    """The npm-installed clients: their bin dir, node itself and the installed versions."""

    node_dir: Path
    node: str

    def bin(self, name: str) -> str:
        return str(self.node_dir / "node_modules" / ".bin" / name)

    def script(self, name: str) -> str:
        """A script of scripts/, placed where Node resolves the installed packages."""
        source = HERE / "scripts" / name
        if self.node_dir == HERE:
            return str(source)
        target = self.node_dir / "cherry-nb-scripts" / name
        target.parent.mkdir(exist_ok=True)
        shutil.copyfile(source, target)
        return str(target)

    def version(self, package: str) -> str:
        manifest = self.node_dir / "node_modules" / package / "package.json"
        return str(json.loads(manifest.read_text())["version"])


@pytest.fixture(scope="session")
def node_clients() -> NodeClients:
    """`npm ci` in the node dir when node_modules does not match the lock file."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        unavailable("node and npm are needed for the Node clients (apt-get install nodejs npm)")
    assert node is not None and npm is not None
    if not _installed_matches_lock(NODE_DIR):
        try:
            done = subprocess.run(
                [npm, "ci", "--no-audit", "--no-fund", "--loglevel=error"],
                cwd=NODE_DIR,
                capture_output=True,
                text=True,
                timeout=900,
                stdin=subprocess.DEVNULL,
            )
        except subprocess.TimeoutExpired:
            unavailable(f"npm ci in {NODE_DIR} did not finish within 900 s")
        if done.returncode != 0:
            unavailable(f"npm ci in {NODE_DIR} failed:\n{done.stderr[-3000:]}")
    return NodeClients(NODE_DIR, node)


def record_fixture(name: str, request: Captured) -> None:
    """Store `request` as fixtures/{name}.json when CHERRY_NB_RECORD_CLIENTS=1."""
    if RECORD:
        FIXTURES.mkdir(exist_ok=True)
        path = FIXTURES / f"{name}.json"
        path.write_text(json.dumps(request.fixture(), indent=2, ensure_ascii=False) + "\n")


def load_fixture(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / name).read_text())
    return data

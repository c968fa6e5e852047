"""Loopback HTTP servers with scripted answers, and the shared fetching state, for fetch tests.

Nothing here imports Django: worker processes started with "spawn" import this module to find
``fetch_in_worker``.
"""

import dataclasses
import os
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from scraping.fetching import FetchClient, FetchPolicy, fetch, static_resolver
from scraping.fetching.file_state import FileState
from scraping.fetching.redis_state import RedisState

REDIS_URL = "redis://127.0.0.1:6379/0"


@dataclass(frozen=True)
class Reply:
    status: int = 200
    body: bytes = b"<html><body>ok</body></html>"
    headers: dict[str, str] = field(
        default_factory=lambda: {"Content-Type": "text/html; charset=utf-8"}
    )
    delay: float = 0.0
    """Seconds before the status line is sent."""
    drip: float = 0.0
    """Seconds between body chunks; the body is then sent in 10 pieces."""
    stream_bytes: int = 0
    """Send this many bytes of body, with no Content-Length, instead of ``body``."""


def html(body: str = "ok", **kwargs) -> Reply:
    return Reply(body=f"<html><body>{body}</body></html>".encode(), **kwargs)


def redirect(location: str, status: int = 302) -> Reply:
    return Reply(status=status, body=b"", headers={"Location": location})


@dataclass(frozen=True)
class Hit:
    path: str
    at: float
    """time.monotonic() in the test process when the request line arrived."""
    headers: dict[str, str]


class LoopbackServer:
    """A ThreadingHTTPServer on 127.0.0.1 answering each path from a script.

    ``route(path, a, b)`` answers the first request with ``a`` and every later one with ``b``.
    Unrouted paths get ``default`` (404 unless set). Proxies see absolute URLs as paths.
    """

    def __init__(self, default: Reply | None = None) -> None:
        self.default = default or Reply(status=404, body=b"not found")
        self.routes: dict[str, list[Reply]] = {}
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.httpd.daemon_threads = True
        self.host, self.port = "127.0.0.1", self.httpd.server_address[1]
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()

    @property
    def address(self) -> tuple[str, int]:
        return self.host, self.port

    def url(self, path: str = "/") -> str:
        return f"http://{self.host}:{self.port}{path}"

    def route(self, path: str, *replies: Reply) -> None:
        self.routes[path] = list(replies)

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [hit for hit in self.hits if hit.path == path]

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def _next_reply(self, path: str) -> Reply:
        with self._lock:
            script = self.routes.get(path)
            if not script:
                return self.default
            return script.pop(0) if len(script) > 1 else script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                with server._lock:
                    server.hits.append(Hit(self.path, time.monotonic(), dict(self.headers)))
                reply = server._next_reply(self.path)
                time.sleep(reply.delay)
                try:
                    self._answer(reply)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True

            def _answer(self, reply: Reply) -> None:
                self.send_response(reply.status)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                if reply.stream_bytes:
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.close_connection = True
                    chunk = b"x" * 65536
                    for _ in range(reply.stream_bytes // len(chunk)):
                        self.wfile.write(chunk)
                    return
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                if not reply.drip:
                    self.wfile.write(reply.body)
                    return
                step = max(1, len(reply.body) // 10)
                for start in range(0, len(reply.body), step):
                    self.wfile.write(reply.body[start : start + step])
                    self.wfile.flush()
                    time.sleep(reply.drip)

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@pytest.fixture
def make_loopback_server() -> Iterator:
    servers: list[LoopbackServer] = []

    def make(default: Reply | None = None) -> LoopbackServer:
        servers.append(LoopbackServer(default))
        return servers[-1]

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def shop(make_loopback_server) -> LoopbackServer:
    return make_loopback_server()


@pytest.fixture
def file_state(tmp_path) -> FileState:
    return FileState(tmp_path / "fetching")


@pytest.fixture
def redis_state() -> Iterator[RedisState]:
    import redis

    from tests.conftest import skip_or_fail

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as exc:
        skip_or_fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
    state = RedisState(REDIS_URL, prefix=f"test-fetching-{uuid.uuid4().hex}:", client=client)
    yield state
    for key in client.scan_iter(match=f"{state.prefix}*"):
        client.delete(key)
    client.close()


@pytest.fixture
def fetch_client() -> Iterator[FetchClient]:
    with FetchClient() as client:
        yield client


def policy_for(*servers: LoopbackServer, **overrides) -> FetchPolicy:
    """A policy that lets exactly these servers through, with test-sized waits.

    Politeness is off unless a test turns it on; the resolver knows no names, so a test that
    means to resolve one says so.
    """
    settings = {
        "allow": frozenset(server.address for server in servers),
        "resolver": static_resolver({}),
        "politeness": False,
        "backoff_initial": 0.01,
        "backoff_jitter": 0.0,
        "connect_timeout": 2.0,
        "read_timeout": 2.0,
        "total_timeout": 5.0,
    }
    return FetchPolicy(**(settings | overrides))


def fetch_in_worker(
    urls: list[str], policy: FetchPolicy, state_spec: tuple, barrier, results
) -> None:
    """Run in a separate process: wait for the others, then fetch ``urls`` one by one."""
    kind, *args = state_spec
    state = FileState(*args) if kind == "file" else RedisState(args[0], prefix=args[1])
    barrier.wait(timeout=30)
    outcomes = []
    with FetchClient() as client:
        for url in urls:
            try:
                outcomes.append(fetch(url, policy=policy, state=state, client=client).status)
            except Exception as exc:  # reported to the test, which fails on it
                outcomes.append(repr(exc))
    results.put((os.getpid(), outcomes))


def picklable(policy: FetchPolicy) -> FetchPolicy:
    """The policy with the default resolver, which another process can unpickle."""
    return dataclasses.replace(policy, resolver=FetchPolicy().resolver)

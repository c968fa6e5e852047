"""The demo marketplace in a process of its own, on several loopback ports, noting arrivals.

Its own process, so that serving pages and reading them do not share one interpreter lock: on
a 2-core machine the shops get one core and the probing side the other. Each port is a separate
server (make_server), so "host:port" is a separate host to the fetcher's politeness.

Arrival times are taken on the server, when a request line has been read: time.monotonic(),
which on Linux is one clock for every process. `page_kb` pads product pages (HTML answers
carrying a </body>) to about that size with a site footer, a stylesheet and an analytics
script, none of which mention a product, a price or stock: the demo shops write 4-8 KB pages,
real retailers 50 KB to 3 MB.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import os
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from wsgiref.simple_server import WSGIRequestHandler

STARTUP_SECONDS = 60


@dataclass(frozen=True)
class Arrival:
    port: int
    at: float
    request_line: str

    @property
    def path(self) -> str:
        parts = self.request_line.split()
        return parts[1] if len(parts) > 1 else ""


class Marketplace:
    """with Marketplace(hosts=21, page_kb=40) as shops: shops.origins, shops.arrivals()"""

    def __init__(self, *, hosts: int, page_kb: int) -> None:
        context = multiprocessing.get_context("spawn")
        self._pipe, child_end = context.Pipe()
        self.process = context.Process(
            target=serve, args=(hosts, page_kb, child_end), name="bench-marketplace", daemon=True
        )
        self.process.start()
        if not self._pipe.poll(STARTUP_SECONDS):
            self.process.terminate()
            raise RuntimeError("the demo marketplace process did not start")
        self.ports: list[int] = self._pipe.recv()
        self.origins = [f"http://127.0.0.1:{port}" for port in self.ports]

    def _ask(self, command: str):
        self._pipe.send(command)
        return self._pipe.recv()

    def arrivals(self) -> list[Arrival]:
        return [Arrival(*row) for row in self._ask("arrivals")]

    def forget_arrivals(self) -> None:
        self._ask("forget")

    def cpu_seconds(self) -> float:
        """CPU time of the marketplace process so far, every thread."""
        return self._ask("cpu")

    def close(self) -> None:
        if self.process.is_alive():
            with contextlib.suppress(BrokenPipeError, EOFError):
                self._ask("stop")
            self.process.join(5)
        if self.process.is_alive():
            self.process.terminate()
            self.process.join(5)

    def __enter__(self) -> Marketplace:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


# --- in the marketplace process -----------------------------------------------------------------


class _ArrivalHandler(WSGIRequestHandler):
    def parse_request(self) -> bool:
        # handle() has just read the request line; nothing else of the request is parsed yet.
        line = self.raw_requestline.decode("latin-1").strip()
        self.server.arrivals.append((self.server.server_port, time.monotonic(), line))
        return super().parse_request()

    def log_message(self, format: str, *args: object) -> None:
        pass


class Padded:
    """WSGI middleware: product pages grow to `size` bytes before </body>."""

    def __init__(self, app, size: int) -> None:
        self.app = app
        self.size = size

    def __call__(self, environ: dict, start_response) -> Iterable[bytes]:
        answer: dict = {}

        def keep(status: str, headers: list, exc_info=None) -> None:
            answer.update(status=status, headers=headers)

        body = b"".join(self.app(environ, keep))
        headers = answer["headers"]
        is_html = any(k.lower() == "content-type" and "html" in v for k, v in headers)
        end = body.rfind(b"</body>")
        if self.size and is_html and answer["status"].startswith("200") and end != -1:
            body = body[:end] + filler(self.size - len(body)) + body[end:]
            headers = [(k, v) for k, v in headers if k.lower() != "content-length"]
            headers.append(("Content-Length", str(len(body))))
        start_response(answer["status"], headers)
        return [body]


def filler(size: int) -> bytes:
    """About `size` bytes of what surrounds a product on a real page, naming no product."""
    if size <= 0:
        return b""
    style, footer, script = [], [], []
    n = 0
    while sum(map(len, style + footer + script)) < size:
        style.append(f".blk-{n}{{margin:{n % 7}px {n % 5}px;color:#{n * 40503 % 0xFFFFFF:06x}}}")
        footer.append(
            f'<li class="menu-item"><a href="/pages/collection-{n}" data-track="nav-{n}">'
            f"Collection {n}</a></li>"
        )
        event = {"event": "impression", "slot": n, "campaign": f"season-{n % 12}", "ab": n % 3}
        script.append(json.dumps(event))
        n += 1
    return (
        f"<style>{''.join(style)}</style>"
        f'<footer class="site-footer"><nav><ul>{"".join(footer)}</ul></nav></footer>'
        f"<script>window.dataLayer=[{','.join(script)}];</script>"
    ).encode()


def serve(hosts: int, page_kb: int, pipe) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "watchprice.settings")
    import django

    django.setup()
    from scraping.demo_marketplace import make_server

    arrivals: list[tuple[int, float, str]] = []
    servers = []
    for _ in range(hosts):
        server = make_server("127.0.0.1", 0, quiet=True)
        server.RequestHandlerClass = _ArrivalHandler
        server.arrivals = arrivals
        server.set_app(Padded(server.get_app(), page_kb * 1024))
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        ).start()
        servers.append(server)
    pipe.send([server.server_port for server in servers])
    while True:
        try:
            command = pipe.recv()
        except EOFError:
            command = "stop"
        if command == "arrivals":
            pipe.send(list(arrivals))
        elif command == "forget":
            arrivals.clear()
            pipe.send(None)
        elif command == "cpu":
            pipe.send(time.process_time())
        elif command == "stop":
            for server in servers:
                server.shutdown()
                server.server_close()
            with contextlib.suppress(BrokenPipeError, OSError):
                pipe.send(None)
            return

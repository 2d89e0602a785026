"""A loopback HTTP receiver for the outbound channels' tests (webhooks, HTTPS transfers,
asynchronous MDNs): it records every POST and answers each with the status ``answer``
gives, the body ``body`` gives and, for a refusal, ``retry_after`` as Retry-After.
Each test module subclasses it with its own answering rule."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


class LoopbackReceiver:
    """Serves on 127.0.0.1 (a free port) from construction until ``close``; ``url`` is
    ``path`` on it. ``delay`` seconds pass before each answer."""

    path = "/"

    def __init__(self) -> None:
        self.requests: list[Request] = []
        self.retry_after: str | None = None
        self.delay = 0.0
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server calls do_<METHOD>
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                time.sleep(receiver.delay)
                request = Request(self.path, dict(self.headers.items()), body)
                with receiver.lock:
                    receiver.requests.append(request)
                    status = receiver.answer(request)
                text = receiver.body(status)
                self.send_response(status)
                if status >= 300 and receiver.retry_after is not None:
                    self.send_header("Retry-After", receiver.retry_after)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: object) -> None:
                """Quiet: the tests read what was received, not access logs."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,),
                                       daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}{self.path}"

    def answer(self, request: Request) -> int:
        """The status of the answer to ``request`` (called under ``lock``)."""
        return 200

    def body(self, status: int) -> bytes:
        return b""

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)

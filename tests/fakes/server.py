"""The common half of the fake network servers: a real HTTP server on 127.0.0.1
(random port) in a daemon thread, request recording, and seeded fault injection.

A fake subclasses :class:`FakeServer` and implements ``dispatch(request)``; tests
point the desk's ``<NETWORK>_API_BASE`` at ``fake.url`` so the production clients
talk real HTTP to it.
"""
from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

FAULT_KINDS = ("429", "500", "503", "hang", "truncated")


@dataclass
class RecordedRequest:
    method: str
    path: str
    args: dict[str, str]
    headers: dict[str, str]
    body: Any


@dataclass
class FaultPlan:
    """Which requests fail: first the queued ``forced`` kinds in order, then each
    request fails with probability ``rate`` picking among ``kinds`` (seeded)."""

    forced: list[str] = field(default_factory=list)
    rate: float = 0.0
    kinds: tuple[str, ...] = ()

    def draw(self, rng: random.Random) -> str | None:
        if self.forced:
            return self.forced.pop(0)
        if self.rate and self.kinds and rng.random() < self.rate:
            return rng.choice(self.kinds)
        return None


class FakeServer:
    hang_seconds = 2.0

    def __init__(self, seed: int = 0):
        self.rng = random.Random(seed)
        self.lock = threading.RLock()
        self.requests: list[RecordedRequest] = []
        self.faults = FaultPlan()
        self.faults_served: list[str] = []
        self._server = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ------------------------------------------------------------
    def start(self):
        self._server = make_server("127.0.0.1", 0, self._wsgi, threaded=True)
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- faults ---------------------------------------------------------------
    def fail_next(self, *kinds: str) -> None:
        """Make the next requests fail with these kinds, in order."""
        with self.lock:
            self.faults.forced.extend(kinds)

    def fail_randomly(self, rate: float, kinds: tuple[str, ...] = FAULT_KINDS) -> None:
        with self.lock:
            self.faults.rate = rate
            self.faults.kinds = tuple(kinds)

    def draw_fault(self) -> str | None:
        with self.lock:
            kind = self.faults.draw(self.rng)
            if kind:
                self.faults_served.append(kind)
            return kind

    def hang(self) -> None:
        time.sleep(self.hang_seconds)

    # -- plumbing -------------------------------------------------------------
    def dispatch(self, request: Request) -> Response:  # pragma: no cover - abstract
        raise NotImplementedError

    def _wsgi(self, environ, start_response):
        request = Request(environ)
        body: Any = request.get_data(as_text=True)
        if request.mimetype == "application/json":
            try:
                body = json.loads(body) if body else None
            except ValueError:
                pass
        elif request.mimetype == "application/x-www-form-urlencoded":
            body = request.form.to_dict()
        with self.lock:
            self.requests.append(RecordedRequest(request.method, request.path, request.args.to_dict(),
                                                 dict(request.headers), body))
        response = self.dispatch(request)
        return response(environ, start_response)


def json_response(data: Any, status: int = 200, *, truncated: bool = False,
                  headers: dict[str, str] | None = None) -> Response:
    text = json.dumps(data, ensure_ascii=False)
    if truncated:
        text = text[: max(1, len(text) // 2)]
    return Response(text, status=status, mimetype="application/json", headers=headers)

"""A real HTTP server on 127.0.0.1 that plays good and bad dataset mirrors."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

HTML_PAGE = b"<!DOCTYPE html><html><body><h1>Access denied</h1></body></html>\n"
TRICKLE_SECONDS = 0.05


@dataclass
class MirrorServer:
    """Serves ``files`` under ``/<mode>/<name>``; the mode decides how each mirror misbehaves.

    Modes: ``good`` serves the file; ``html`` answers 200 with an HTML page; ``cut`` announces the
    full length, sends half the file and closes the connection; ``missing`` answers 404;
    ``trickle`` sends one byte every ``TRICKLE_SECONDS``, until the client hangs up.
    """

    port: int
    files: dict[str, bytes] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/"


def _handler(server: MirrorServer) -> type[http.server.BaseHTTPRequestHandler]:
    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            server.requests.append(self.path)
            _, mode, name = self.path.split("/", 2)
            body = server.files.get(name)
            if mode == "missing" or body is None:
                self.send_error(404)
                return
            if mode == "html":
                body = HTML_PAGE
            self.send_response(200)
            content_type = "text/html" if mode == "html" else "application/octet-stream"
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if mode == "cut":
                self.wfile.write(body[: len(body) // 2])
                self.wfile.flush()
                self.close_connection = True
                return
            if mode == "trickle":
                self.close_connection = True
                for i in range(len(body)):
                    try:
                        self.wfile.write(body[i : i + 1])
                        self.wfile.flush()
                    except OSError:  # the client gave up
                        return
                    time.sleep(TRICKLE_SECONDS)
                return
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    return Handler


@pytest.fixture
def mirror_server() -> Iterator[MirrorServer]:
    state = MirrorServer(port=0)
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    state.port = httpd.server_address[1]
    thread = threading.Thread(target=httpd.serve_forever, args=(0.01,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


@pytest.fixture
def dead_mirror() -> str:
    """The URL of a port on 127.0.0.1 that nothing listens on (connections are refused)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"

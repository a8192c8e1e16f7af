"""A loopback HTTP proxy in front of the sandbox that loses responses: the request reaches the sandbox and
takes effect, but the caller's connection is closed before any answer (what a timeout after the server
acted looks like to a client). It tests calls that have no client token, such as DRS StartRecovery.

    with LossyProxy(sandbox.endpoint, lose={"/StartRecovery": 1}) as proxy:
        os.environ["AWS_ENDPOINT_URL_DRS"] = proxy.endpoint

``lose`` maps a path suffix to how many responses of it to lose; ``lost`` counts what was lost.
"""

from __future__ import annotations

import http.client
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler
from http.server import ThreadingHTTPServer

HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade", "proxy-connection"}


class LossyProxy:
    def __init__(self, upstream: str, lose: dict[str, int] | None = None):
        self.upstream = urllib.parse.urlsplit(upstream)
        self.lose = dict(lose or {})
        self.lost: dict[str, int] = {}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def _should_lose(self, path: str) -> bool:
        with self._lock:
            for suffix, left in self.lose.items():
                if left > 0 and path.split("?", 1)[0].endswith(suffix):
                    self.lose[suffix] = left - 1
                    self.lost[suffix] = self.lost.get(suffix, 0) + 1
                    return True
        return False

    def _handler(self):
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *_args):  # quiet
                pass

            def _forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                connection = http.client.HTTPConnection(proxy.upstream.hostname, proxy.upstream.port, timeout=120)
                headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
                connection.request(self.command, self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = response.read()
                connection.close()
                if proxy._should_lose(self.path):
                    self.close_connection = True
                    self.connection.shutdown(2)
                    return
                self.send_response(response.status)
                for key, value in response.getheaders():
                    if key.lower() not in HOP_BY_HOP and key.lower() != "content-length":
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = _forward

        return Handler

    def start(self) -> LossyProxy:
        self._thread.start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

"""A TCP proxy in front of a service that a test can take away and bring back: while it is
down, new connections are refused and open ones are cut, as in a real outage."""

from __future__ import annotations

import asyncio
import contextlib
import http.client
import http.server
import threading
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit, urlunsplit


class OutageProxy:
    """Forwards 127.0.0.1:<port> to ``target_url``'s host and port."""

    def __init__(self, target_url: str | None = None, unix_socket: str | None = None) -> None:
        parts = urlsplit(target_url or "")
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.unix_socket = unix_socket
        self.port = 0
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._flowing = asyncio.Event()
        self._flowing.set()
        self._requests: list[tuple[float, bytes]] = []  # (when, first bytes) client -> target

    @property
    def url(self) -> str:
        """The URL clients use instead of the target's."""
        return f"http://127.0.0.1:{self.port}"

    async def up(self) -> None:
        """Accept connections (on the same port as before, once it has one)."""
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def down(self) -> None:
        """Refuse new connections and cut the open ones."""
        if self._server is not None:
            self._server.close()
            self._server = None
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()
        self._flowing.set()  # a stall ends with the connections it held

    def last_request(self, marker: bytes) -> float | None:
        """When (event-loop time) data holding ``marker`` last went to the target, if ever
        (``b"ReceiveMessage"``: a poll of the queue was sent)."""
        return next((when for when, head in reversed(self._requests) if marker in head), None)

    def stall(self) -> None:
        """Keep every connection open but pass nothing more either way: a black hole, as
        when a network path dies without a reset."""
        self._flowing.clear()

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        try:
            if self.unix_socket is not None:
                upstream_r, upstream_w = await asyncio.open_unix_connection(self.unix_socket)
            else:
                upstream_r, upstream_w = await asyncio.open_connection(*self.target)
        except OSError:
            client_w.transport.abort()
            return
        self._writers.update((client_w, upstream_w))

        async def pipe(
            reader: asyncio.StreamReader, writer: asyncio.StreamWriter, *, requests: bool = False
        ) -> None:
            with contextlib.suppress(OSError, asyncio.IncompleteReadError):
                while data := await reader.read(65536):
                    await self._flowing.wait()
                    if requests:
                        self._requests = self._requests[-99:]
                        self._requests.append((asyncio.get_running_loop().time(), data[:1024]))
                    writer.write(data)
                    await writer.drain()
            writer.transport.abort()

        await asyncio.gather(pipe(client_r, upstream_w, requests=True), pipe(upstream_r, client_w))
        self._writers.difference_update((client_w, upstream_w))


def database_proxy(database_url: str) -> tuple[OutageProxy, Callable[[], str]]:
    """A proxy in front of the PostgreSQL server of ``database_url`` (TCP, or the unix
    socket the embedded server listens on), and the URL through it (once it is up)."""
    parts = urlsplit(database_url)
    query = parse_qs(parts.query)
    socket_dir = (query.get("host") or [""])[0]
    if socket_dir.startswith("/"):
        port = (query.get("port") or ["5432"])[0]
        proxy = OutageProxy(unix_socket=f"{socket_dir}/.s.PGSQL.{port}")
    else:
        proxy = OutageProxy(f"http://{parts.hostname}:{parts.port or 5432}")
    userinfo = parts.netloc.rpartition("@")[0]

    def url() -> str:
        netloc = f"{userinfo}@127.0.0.1:{proxy.port}" if userinfo else f"127.0.0.1:{proxy.port}"
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))

    return proxy, url


class FailingWrites:
    """An HTTP proxy in front of S3 (in a thread, so CLI subprocesses can use it while the
    test waits on them) that refuses every write (403 AccessDenied, which clients do not
    retry) while ``failing`` is set, and forwards everything else: uploads fail while
    reads go on."""

    def __init__(self, target_url: str) -> None:
        parts = urlsplit(target_url)
        self.target = (parts.hostname or "127.0.0.1", parts.port or 80)
        self.failing = True
        self.refused = 0
        proxy = self

        class Handler(http.server.BaseHTTPRequestHandler):
            # HTTP/1.1: answers "Expect: 100-continue", which S3 clients send with uploads.
            protocol_version = "HTTP/1.1"

            def _forward(self) -> None:
                body = self._body()
                if proxy.failing and self.command in ("PUT", "POST"):
                    proxy.refused += 1
                    error = b"<Error><Code>AccessDenied</Code><Message>cut</Message></Error>"
                    self.send_response(403)
                    self.send_header("Content-Length", str(len(error)))
                    self.end_headers()
                    self.wfile.write(error)
                    return
                upstream = http.client.HTTPConnection(*proxy.target, timeout=60)
                dropped = ("host", "transfer-encoding", "content-length", "expect")
                headers = {k: v for k, v in self.headers.items() if k.lower() not in dropped}
                upstream.request(self.command, self.path, body=body, headers=headers)
                answer = upstream.getresponse()
                data = answer.read()
                self.send_response(answer.status)
                for name, value in answer.getheaders():
                    if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                        self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
                upstream.close()

            def _body(self) -> bytes:
                if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
                    chunks = []
                    while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                        chunks.append(self.rfile.read(size))
                        self.rfile.readline()
                    while self.rfile.readline().strip():  # trailers, then the blank line
                        pass
                    return b"".join(chunks)
                length = int(self.headers.get("Content-Length") or 0)
                return self.rfile.read(length) if length else b""

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

            def log_message(self, *args: object) -> None:
                pass

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()

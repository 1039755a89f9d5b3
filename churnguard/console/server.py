"""Runs the console's app with uvicorn on a loopback socket: 127.0.0.1 only, access log off.

The socket is bound here, not by uvicorn, so port 0 (any free port) still yields the address to
print; it is made as a TCP socket by name, so that every connection it accepts has Nagle's algorithm
off. uvicorn's access log is off: it prints request lines, and although the API keeps phone
numbers and messages out of URLs, no request detail belongs in a log the agent's machine keeps.
"""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn
from starlette.types import ASGIApp

LOOPBACK = "127.0.0.1"


def bind(port: int) -> socket.socket:
    """A listening TCP socket on 127.0.0.1:`port` (0: a free port), or a UserError naming the port."""
    from churnguard.errors import UserError

    # IPPROTO_TCP named, not left 0: accepted connections inherit it, and asyncio turns Nagle's
    # algorithm off (TCP_NODELAY) only on sockets that say they are TCP. Left on, every keep-alive
    # request after a connection's first waited ~40 ms for the browser's delayed ACK.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((LOOPBACK, port))
    except OSError as error:
        sock.close()
        raise UserError(
            f"cannot listen on {LOOPBACK}:{port}: {error.strerror}; pick another --port"
        ) from None
    sock.listen(128)
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://{host}:{port}/"


def uvicorn_server(app: ASGIApp) -> uvicorn.Server:
    """uvicorn as the console runs it: no access log, no Server header, warnings and errors only."""
    config = uvicorn.Config(app, access_log=False, log_level="warning", server_header=False, lifespan="off")
    return uvicorn.Server(config)


@contextmanager
def serving_in_background(app: ASGIApp, port: int = 0) -> Iterator[str]:
    """Serve `app` on a thread for the block's duration; yields its URL (tests, embedding)."""
    sock = bind(port)
    server = uvicorn_server(app)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started and thread.is_alive():
            threading.Event().wait(0.02)
        yield url_of(sock)
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()

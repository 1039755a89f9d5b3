"""The console's listening socket: every connection it accepts has Nagle's algorithm off.

uvicorn serves on the socket churnguard binds (churnguard.console.server.bind) through asyncio's
`loop.create_server(sock=...)`, and asyncio sets TCP_NODELAY only on accepted sockets whose protocol
is IPPROTO_TCP, inherited from the listener. With Nagle on, a browser's keep-alive request after the
first waited for its own delayed ACK (about 40 ms on Linux) before the answer's body came.
"""

from __future__ import annotations

import asyncio
import socket

from churnguard.console.server import bind


def test_the_listener_is_tcp_by_name() -> None:
    sock = bind(0)
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockname()[0] == "127.0.0.1"
    finally:
        sock.close()


def test_connections_accepted_the_way_uvicorn_accepts_them_have_nagle_off() -> None:
    async def accepted_nodelay() -> int:
        seen: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Report(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted = transport.get_extra_info("socket")
                seen.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        listener = bind(0)
        server = await asyncio.get_running_loop().create_server(Report, sock=listener)
        try:
            _, writer = await asyncio.open_connection(*listener.getsockname()[:2])
            value = await asyncio.wait_for(seen, timeout=10)
            writer.close()
            return value
        finally:
            server.close()
            await server.wait_closed()

    assert asyncio.run(accepted_nodelay()) != 0

"""grpc.aio servers inside a test process, for tests written with synchronous clients.

The server runs on an event loop in a daemon thread of its own; the test talks to it
through ordinary channels. `served(build)` runs `build()` (a coroutine function giving a
not yet started server and its port) on that loop, starts the server, and stops it at
the end; `InProcessServer.stop()` stops it earlier, from any thread.
"""

from __future__ import annotations

import asyncio
import threading
from contextlib import contextmanager
from typing import Awaitable, Callable, Iterator

import grpc

TIMEOUT_S = 30


class InProcessServer:
    def __init__(self, loop: asyncio.AbstractEventLoop, server: grpc.aio.Server, port: int):
        self.loop, self.server, self.port = loop, server, port
        self.target = f"127.0.0.1:{port}"

    def call(self, coroutine: Awaitable):
        """Run `coroutine` on the server's loop and wait for its result."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(TIMEOUT_S)

    def stop(self, grace: float | None = None) -> None:
        self.call(self.server.stop(grace))


@contextmanager
def served(build: Callable[[], Awaitable[tuple[grpc.aio.Server, int]]]) -> Iterator[InProcessServer]:
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="aio-server", daemon=True)
    thread.start()

    async def start() -> tuple[grpc.aio.Server, int]:
        server, port = await build()
        await server.start()
        return server, port

    try:
        server, port = asyncio.run_coroutine_threadsafe(start(), loop).result(TIMEOUT_S)
        running = InProcessServer(loop, server, port)
        try:
            yield running
        finally:
            running.stop()
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(TIMEOUT_S)
        loop.close()

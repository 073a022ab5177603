"""Faults on demand. ``FaultyProxy``: a TCP proxy on 127.0.0.1 in front of a test server, to
make the store go down, hang, or come back (on the same port, with its data intact) while a run
is logging. ``FaultyStorage``: a real storage wrapped, whose calls fail, stall or do something
else first when a test says so (pass it as ``storage=`` to init, open_store or compact)."""

from __future__ import annotations

import random
import socket
import threading
from collections.abc import Callable
from typing import Any


class FaultyProxy:
    """Forwards 127.0.0.1:<port> to the target until told to go ``down`` or ``hang``."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.port = _port_outside_ephemeral_range()
        self.mode = "up"
        self._listener: socket.socket | None = None
        self._reserved: socket.socket | None = None
        self._connections: list[socket.socket] = []
        self._lock = threading.Lock()

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def up(self) -> FaultyProxy:
        if self.mode == "hang":
            self._drop_connections()  # the stuck requests end when the server recovers
        self.mode = "up"
        if self._listener is None:
            listener, self._reserved = self._reserved or _bound(self.port), None
            listener.listen(64)
            self._listener = listener
            threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def close(self) -> None:
        """Down for good: release the port."""
        self.down()
        if self._reserved is not None:
            self._reserved.close()
            self._reserved = None

    def hang(self) -> None:
        """Accept connections but never answer (a store that is there and stuck)."""
        self.mode = "hang"
        self._drop_connections()

    def down(self) -> None:
        """Refuse connections (a store that is gone)."""
        self.mode = "down"
        if self._listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone leaves it listening
                self._listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            self._listener.close()
            self._listener = None
            # Keep the port bound but not listening: connections are refused, as from a
            # store that is gone, and no other process can take the port meanwhile.
            self._reserved = _bound(self.port)
        self._drop_connections()

    def _drop_connections(self) -> None:
        with self._lock:
            for connection in self._connections:
                try:
                    connection.close()
                except OSError:
                    pass
            self._connections.clear()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return  # closed by down()
            with self._lock:
                self._connections.append(client)
            if self.mode == "up":
                threading.Thread(target=self._forward, args=(client,), daemon=True).start()

    def _forward(self, client: socket.socket) -> None:
        try:
            server = socket.create_connection(("127.0.0.1", self.target_port))
        except OSError:
            client.close()
            return
        with self._lock:
            self._connections.append(server)
        threading.Thread(target=_pipe, args=(server, client), daemon=True).start()
        _pipe(client, server)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while chunk := source.recv(65536):
            sink.sendall(chunk)
    except OSError:
        pass
    finally:
        for sock in (source, sink):
            try:
                sock.close()
            except OSError:
                pass


def _bound(port: int) -> socket.socket:
    sock = socket.socket()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    return sock


def _port_outside_ephemeral_range() -> int:
    """A free port below Linux's ephemeral range (32768+). While the proxy is down, clients
    retry connecting to its port; with a port inside the range, one retry can be handed that
    very port as its source and connect to itself (TCP simultaneous open), and the proxy then
    cannot listen there again."""
    for _ in range(200):
        port = random.randrange(20_000, 32_000)
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 20000-32000")


class FaultyStorage:
    """``inner`` (a real storage) with faults on demand; every other attribute passes through.

    ``around(name, hook)`` makes each call of method ``name`` a call of ``hook(real, *args)``,
    which may raise, wait, skip the real call or do something else first; ``fail``, ``stall``
    and ``skip`` are the usual hooks. ``on_local_disk=False`` makes a local root look like a
    network mount (NFS), as /proc/self/mounts would say. ``calls`` lists (method, first
    argument) of every call, faulty or not; ``failed`` those that raised on purpose.
    """

    def __init__(self, inner: Any, *, on_local_disk: bool | None = None) -> None:
        self.inner = inner
        self._on_local_disk = on_local_disk
        self._hooks: dict[str, Callable[..., Any]] = {}
        self.calls: list[tuple[str, Any]] = []
        self.failed: list[tuple[str, Any]] = []

    def __repr__(self) -> str:
        return f"FaultyStorage({self.inner!r})"

    @property
    def on_local_disk(self) -> bool:
        return self.inner.on_local_disk if self._on_local_disk is None else self._on_local_disk

    def around(self, name: str, hook: Callable[..., Any]) -> FaultyStorage:
        self._hooks[name] = hook
        return self

    def fail(
        self, name: str, error: Exception, times: int = 1, when: Callable[..., bool] = lambda *a: True
    ) -> FaultyStorage:
        """Raise ``error`` instead of the first ``times`` calls of ``name`` that ``when`` picks."""

        fired: list[Any] = []

        def failing(real: Callable[..., Any], *args: Any) -> Any:
            if len(fired) < times and when(*args):
                fired.append(args[0] if args else None)
                self.failed.append((name, fired[-1]))
                raise error
            return real(*args)

        return self.around(name, failing)

    def stall(self, name: str, until: threading.Event, timeout: float = 30) -> FaultyStorage:
        """Hold every call of ``name`` until ``until`` is set (a store that stopped answering)."""

        def stalled(real: Callable[..., Any], *args: Any) -> Any:
            until.wait(timeout)
            return real(*args)

        return self.around(name, stalled)

    def skip(self, name: str) -> FaultyStorage:
        """Calls of ``name`` do nothing (a process that died before making them)."""
        return self.around(name, lambda real, *args: None)

    def __getattr__(self, name: str) -> Any:
        value = getattr(self.inner, name)
        if not callable(value):
            return value
        hook = self._hooks.get(name)

        def call(*args: Any) -> Any:
            self.calls.append((name, args[0] if args else None))
            return value(*args) if hook is None else hook(value, *args)

        return call

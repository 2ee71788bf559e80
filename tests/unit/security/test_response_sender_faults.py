"""The response PUT gives up in bounded time when CloudFormation's endpoint misbehaves.

A plain TCP server plays the presigned ``ResponseURL``: it accepts connections and never answers
(each try ends at the timeout, the number of tries is bounded), or closes the first connection
without an answer (or with something that is not HTTP) and accepts the next try. Neither the URL
nor its signature reaches the log.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest

from osp_handler.cfn_response import send_response

SIGNATURE = "9f1c0ffee5ca1ab1e"
BODY = b'{"Status": "SUCCESS"}'
OK = b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"


@dataclass
class RawServer:
    """Accepts connections on 127.0.0.1; ``behaviours`` says what to do with each in turn:
    ``"hang"`` (read, never answer), ``"drop"`` (read, close), ``"garbage"`` (answer something
    that is not HTTP, close) or ``"ok"`` (answer 200)."""

    behaviours: list[str]
    connections: int = 0
    url: str = ""
    _socket: socket.socket = field(default_factory=socket.socket)
    _open: list[socket.socket] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._socket.bind(("127.0.0.1", 0))
        self._socket.listen(8)
        self._socket.settimeout(0.1)
        port = self._socket.getsockname()[1]
        self.url = (
            f"http://127.0.0.1:{port}/cfn-response/stack%7Cres%7Creq?X-Amz-Signature={SIGNATURE}"
        )
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                connection, _ = self._socket.accept()
            except TimeoutError:
                continue
            behaviour = self.behaviours[min(self.connections, len(self.behaviours) - 1)]
            self.connections += 1
            connection.recv(65536)
            if behaviour == "ok":
                connection.sendall(OK)
                connection.close()
            elif behaviour == "drop":
                connection.close()
            elif behaviour == "garbage":
                connection.sendall(b"NOT HTTP AT ALL\r\n\r\n")
                connection.close()
            else:
                self._open.append(connection)  # hang: keep it open, say nothing

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        for connection in self._open:
            connection.close()
        self._socket.close()


@pytest.fixture
def server(request: pytest.FixtureRequest) -> Iterator[RawServer]:
    raw = RawServer(list(request.param))
    raw.start()
    yield raw
    raw.stop()


@pytest.mark.parametrize("server", [["hang"]], indirect=True)
def test_an_endpoint_that_never_answers_is_given_up_after_the_tries(
    server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sleeps: list[float] = []
    started = time.monotonic()

    sent = send_response(server.url, BODY, timeout=0.3, attempts=3, sleep=sleeps.append)

    elapsed = time.monotonic() - started
    assert not sent
    assert server.connections == 3
    assert sleeps == [1.0, 2.0]
    assert elapsed < 3 * 0.3 + 1.5, "a try outlived its timeout"
    assert SIGNATURE not in caplog.text
    assert "cfn-response" not in caplog.text
    assert "giving up" in caplog.text


@pytest.mark.parametrize("server", [["drop", "ok"], ["garbage", "ok"]], indirect=True)
def test_a_dropped_connection_or_a_broken_answer_is_tried_again(
    server: RawServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    sleeps: list[float] = []

    assert send_response(server.url, BODY, timeout=2.0, attempts=3, sleep=sleeps.append)

    assert server.connections == 2
    assert sleeps == [1.0]
    assert SIGNATURE not in caplog.text

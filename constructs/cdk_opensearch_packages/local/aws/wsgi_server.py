"""A WSGI app served on 127.0.0.1 from a background thread (the local services' HTTP side)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment

__all__ = ["BackgroundWsgiServer"]


class BackgroundWsgiServer:
    """Serves :meth:`wsgi_app` in a daemon thread; subclasses implement the app.

    :param host: the address to listen on.
    :param port: the port (0: a free one).
    :param description: what it is, for thread names and errors (e.g. "the local OpenSearch
        API").
    :param logger: where werkzeug's request lines go (at debug level).
    """

    def __init__(self, *, host: str, port: int, description: str, logger: logging.Logger) -> None:
        self._host = host
        self._port = port
        self._description = description
        self._logger = logger
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None
        self._endpoint_url: str | None = None

    def wsgi_app(self, environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        """The WSGI application served."""
        raise NotImplementedError

    def start(self) -> str:
        """Serve in a background thread.

        :return: the endpoint URL, e.g. ``http://127.0.0.1:54321``.
        """
        if self._server is not None:
            raise RuntimeError(f"{self._description} is already running")
        logger = self._logger

        class QuietRequestHandler(WSGIRequestHandler):
            """werkzeug's handler, logging at debug level."""

            def log(self, type: str, message: str, *args: Any) -> None:
                logger.debug("%s %s", type, message % args if args else message)

        server = make_server(
            self._host,
            self._port,
            self.wsgi_app,
            threaded=True,
            request_handler=QuietRequestHandler,
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=self._description.removeprefix("the ").replace(" ", "-"),
            daemon=True,
        )
        self._thread.start()
        host = "127.0.0.1" if self._host in ("0.0.0.0", "") else self._host
        self._endpoint_url = f"http://{host}:{server.port}"
        return self._endpoint_url

    def stop(self) -> None:
        """Stop serving (idempotent); what was recorded stays readable in process."""
        server, thread = self._server, self._thread
        self._server = self._thread = None
        self._endpoint_url = None
        if server is not None:
            server.shutdown()
            server.server_close()
        if thread is not None:
            thread.join(timeout=5)

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    @property
    def endpoint_url(self) -> str:
        """The URL to give clients."""
        if self._endpoint_url is None:
            raise RuntimeError(f"{self._description} is not running: call start() first")
        return self._endpoint_url

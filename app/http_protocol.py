"""uvicorn's HTTP protocol with a deadline for receiving each request.

uvicorn has no timeout for receiving a request (its issue #157): `timeout_keep_alive` only
covers the idle time between requests, so a client that sends its headers a byte at a time
(slowloris), or a body that never ends, holds a connection forever. ASGI middleware cannot
help: it runs once the headers are parsed. The protocol can: a timer starts when the
connection opens (or the next request's first byte arrives), allows `headers_timeout` for
the headers, then `body_timeout` for the body, extended for every chunk that arrives (as
Apache's mod_reqtimeout does with `MinRate`), and is cancelled once the body is complete
or the connection becomes a WebSocket. When it fires, the client gets 408 and the
connection is closed (only closed, when the application has already started answering).
"""

from __future__ import annotations

import asyncio
from typing import ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# Each byte of body that arrives earns the client this much more time: a body trickling
# slower than 500 bytes a second is cut off, as Apache's mod_reqtimeout default does.
BODY_MIN_BYTES_PER_SECOND = 500.0
_TIMEOUT_RESPONSE_BODY = b"The request was not received in time.\n"
# After the 408, what the client still sends is read and dropped for this long before the
# connection closes: closing with unread data would reset it and could lose the 408 before
# the client reads it (nginx's lingering close does the same, for up to 5 s).
LINGER_SECONDS = 2.0


class ReceiptDeadlineProtocol(HttpToolsProtocol):
    """Use `receipt_deadline_protocol` to make one with its timeouts."""

    headers_timeout: ClassVar[float]
    body_timeout: ClassVar[float]
    body_min_bytes_per_second: ClassVar[float] = BODY_MIN_BYTES_PER_SECOND

    _receipt_timer: asyncio.TimerHandle | None = None
    _receipt_deadline = 0.0
    _lingering = False

    def data_received(self, data: bytes) -> None:
        if not self._lingering:
            super().data_received(data)

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._start_receipt(self.headers_timeout)  # a connection that never sends a byte

    def connection_lost(self, exc: Exception | None) -> None:
        self._stop_receipt()
        super().connection_lost(exc)

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._receipt_timer is None:  # the next request on a kept-alive connection
            self._start_receipt(self.headers_timeout)

    def on_headers_complete(self) -> None:
        super().on_headers_complete()
        if self._receipt_timer is not None:
            self._receipt_deadline = self.loop.time() + self.body_timeout

    def on_body(self, body: bytes) -> None:
        super().on_body(body)
        self._receipt_deadline += len(body) / self.body_min_bytes_per_second

    def on_message_complete(self) -> None:
        self._stop_receipt()
        super().on_message_complete()

    def handle_websocket_upgrade(self) -> None:
        self._stop_receipt()  # the WebSocket protocol and the GraphQL handler take over
        super().handle_websocket_upgrade()

    def _start_receipt(self, seconds: float) -> None:
        self._stop_receipt()
        self._receipt_deadline = self.loop.time() + seconds
        self._receipt_timer = self.loop.call_at(self._receipt_deadline, self._on_receipt_timer)

    def _stop_receipt(self) -> None:
        if self._receipt_timer is not None:
            self._receipt_timer.cancel()
            self._receipt_timer = None

    def _on_receipt_timer(self) -> None:
        now = self.loop.time()
        if self.flow is not None and self.flow.read_paused:
            # The server stopped reading (the application is behind): not the client's fault.
            self._receipt_deadline = now + self.body_timeout
        if now < self._receipt_deadline:  # chunks arrived meanwhile and earned more time
            self._receipt_timer = self.loop.call_at(self._receipt_deadline, self._on_receipt_timer)
            return
        self._receipt_timer = None
        self._expire()

    def _expire(self) -> None:
        if self.transport.is_closing():
            return
        cycle = self.cycle
        receiving_body = cycle is not None and not cycle.response_complete
        if receiving_body:
            # The application awaiting the body is told the client is gone.
            cycle.disconnected = True
            cycle.message_event.set()
        if receiving_body and cycle.response_started:
            self.transport.close()  # the application is answering: its answer is cut short
            return
        self._send_408()
        self._lingering = True
        if self.transport.can_write_eof():
            self.transport.write_eof()
        self.loop.call_later(LINGER_SECONDS, self.transport.close)

    def _send_408(self) -> None:
        head = [b"HTTP/1.1 408 Request Timeout\r\n"]
        for name, value in self.server_state.default_headers:
            head.append(name + b": " + value + b"\r\n")
        head.append(b"content-type: text/plain; charset=utf-8\r\n")
        head.append(b"content-length: %d\r\n" % len(_TIMEOUT_RESPONSE_BODY))
        head.append(b"connection: close\r\n\r\n")
        self.transport.write(b"".join(head) + _TIMEOUT_RESPONSE_BODY)


def receipt_deadline_protocol(
    headers_timeout: float, body_timeout: float
) -> type[ReceiptDeadlineProtocol]:
    """The protocol class for uvicorn's `http` setting, with these deadlines (seconds)."""
    return type(
        "ReceiptDeadlineProtocol",
        (ReceiptDeadlineProtocol,),
        {"headers_timeout": headers_timeout, "body_timeout": body_timeout},
    )

"""Just enough HTTP/1.1 to serve codex: read one request, then answer and close the connection.

Codex 0.169 sends ``POST /v1/responses`` with a plain ``content-length`` JSON body; a chunked body is
accepted too, and a compressed one is refused with 415 rather than misread. Every answer carries
``connection: close``, so a streamed body simply ends when the socket closes and no keep-alive
bookkeeping is needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from http import HTTPStatus

from anyio.streams.buffered import BufferedByteReceiveStream

MAX_HEAD_BYTES = 64 * 1024
MAX_BODY_BYTES = 64 * 1024 * 1024


class HttpError(Exception):
    """Raised when a request cannot be read; the server answers with ``status`` and the message."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class HttpRequest:
    """One parsed request: header names in lower case, repeated headers joined, the body as sent."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


async def read_request(stream: BufferedByteReceiveStream) -> HttpRequest:
    """Read one request: the request line, the headers and the body.

    Raises:
        HttpError: the request is malformed, too large or compressed.
        anyio.IncompleteRead: the client closed the connection early.
    """
    head = (await stream.receive_until(b"\r\n\r\n", MAX_HEAD_BYTES)).decode("latin-1")
    request_line, *lines = head.split("\r\n")
    parts = request_line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise HttpError(400, f"malformed request line {request_line!r}")
    headers: dict[str, str] = {}
    for line in lines:
        name, colon, value = line.partition(":")
        if not colon:
            raise HttpError(400, f"malformed header line {line!r}")
        key = name.strip().lower()
        headers[key] = f"{headers[key]}, {value.strip()}" if key in headers else value.strip()
    if headers.get("content-encoding", "identity") != "identity":
        raise HttpError(415, f"unsupported content-encoding {headers['content-encoding']!r}; send the body as is")
    return HttpRequest(parts[0], parts[1], headers, await _read_body(stream, headers))


async def _read_body(stream: BufferedByteReceiveStream, headers: dict[str, str]) -> bytes:
    if headers.get("transfer-encoding", "").lower() == "chunked":
        return await _read_chunked(stream)
    length = headers.get("content-length", "0")
    if not length.isdecimal() or int(length) > MAX_BODY_BYTES:
        raise HttpError(400, f"bad content-length {length!r}")
    return await stream.receive_exactly(int(length))


async def _read_chunked(stream: BufferedByteReceiveStream) -> bytes:
    chunks: list[bytes] = []
    total = 0
    while True:
        size_line = (await stream.receive_until(b"\r\n", 1024)).split(b";")[0].strip()
        try:
            size = int(size_line, 16)
        except ValueError:
            raise HttpError(400, f"bad chunk size {size_line!r}") from None
        total += size
        if total > MAX_BODY_BYTES:
            raise HttpError(413, "request body too large")
        if size == 0:
            while await stream.receive_until(b"\r\n", MAX_HEAD_BYTES):
                pass
            return b"".join(chunks)
        chunks.append(await stream.receive_exactly(size))
        await stream.receive_exactly(2)


def response_head(status: int, content_type: str, length: int | None = None) -> bytes:
    """Build a response's status line and headers; without ``length`` the body runs to the close."""
    lines = [
        f"HTTP/1.1 {status} {next((known.phrase for known in HTTPStatus if known == status), 'Unknown')}",
        f"content-type: {content_type}",
        "cache-control: no-cache",
        "connection: close",
    ]
    if length is not None:
        lines.append(f"content-length: {length}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

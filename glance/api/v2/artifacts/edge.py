"""The HTTP edge of /v2/artifacts: connections whose request body was not
read.

``serve`` runs the router so that an answer given before the request body
was read to its end ends its connection: otherwise the WSGI server reads
what is left of the body, or waits for the client to close, with a thread
of its own, and a client that keeps such connections open holds the
server's threads with requests that were already refused.
"""

import socket
import threading
import time

# After an answer to a request whose body was not read, how long and how
# much more the client may send while it reads the answer.
LINGER = 1.0            # seconds
LINGER_BYTES = 1024 * 1024


class Body(object):
    """The request body (``wsgi.input``), which notes whether it was read
    to its end: ``ended``. Reads through it are one at a time, so that
    ``close`` can wait for one in progress."""

    def __init__(self, environ):
        self._input = environ['wsgi.input']
        length = environ.get('CONTENT_LENGTH') or ''
        if length.isdigit():
            self._left = int(length)
        elif 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            self._left = None       # until a read finds the end
        else:
            self._left = 0          # no body
        self.ended = self._left == 0
        self._closed = False
        self._reading = threading.Lock()

    def read(self, size=-1):
        with self._reading:
            if self._closed:
                raise ConnectionAbortedError('The connection has ended.')
            whole = size is None or size < 0
            data = self._input.read() if whole else self._input.read(size)
            if self._left is not None:
                self._left -= len(data)
            if whole or (size and not data) or (self._left is not None and
                                                self._left <= 0):
                self.ended = True
            return data

    def __getattr__(self, name):
        # readline and the rest: not counted, so the connection ends after
        # the answer, which is always safe.
        return getattr(self._input, name)

    def __iter__(self):
        return iter(self._input)

    def close(self, timeout):
        """Refuse further reads, and wait up to ``timeout`` seconds for a
        read in progress to return."""
        self._closed = True
        if self._reading.acquire(timeout=timeout):
            self._reading.release()


def serve(app, environ, start_response):
    """Call the WSGI ``app`` with ``environ['wsgi.input']`` as a Body. When
    it answers an HTTP/1 request before the body was read to its end, the
    answer says ``Connection: close``, and once the server has sent it,
    the connection ends (end_connection). (An HTTP/2 connection carries
    other requests; the server ends the request's stream.)"""
    body = Body(environ)
    environ['wsgi.input'] = body
    http1 = environ.get('SERVER_PROTOCOL') in ('HTTP/1.0', 'HTTP/1.1')
    closing = []

    def start(status, headers, exc_info=None):
        if http1 and not body.ended:
            closing.append(True)
            headers = list(headers) + [('Connection', 'close')]
        return start_response(status, headers, exc_info)

    def then():
        if closing:
            end_connection(environ, body)

    return _ThenEnd(app(environ, start), then)


class _ThenEnd(object):
    """A response body that runs ``then`` when the server closes it, which
    it does once it has sent the body (PEP 3333)."""

    def __init__(self, app_iter, then):
        self._app_iter = app_iter
        self._then = then

    def __iter__(self):
        return iter(self._app_iter)

    def close(self):
        try:
            if hasattr(self._app_iter, 'close'):
                self._app_iter.close()
        finally:
            self._then()


def end_connection(environ, body):
    """End the connection of a request whose body was not read, after the
    server has sent the answer.

    Under gunicorn, whose socket the environ carries: the end of the
    connection (FIN) follows the answer at once; what the client still
    sends is read and dropped until it closes its side, for LINGER seconds
    and LINGER_BYTES at most, so that a client still sending its body can
    read the answer rather than meet a reset (a connection shut for
    reading is reset by the kernel when data comes); then the reading side
    is shut too. Whatever waits on the connection then sees its end at
    once: a read of ours still waiting in the body (``body.close`` waits
    for it), and gunicorn itself. Gunicorn drops an application's
    Connection header (hop-by-hop, PEP 3333) and would otherwise keep the
    connection: its gthread worker reads the rest of the body for up to
    five seconds in the request's thread, and when it gives up, waits up
    to two seconds for the client to close in its main loop, which
    accepts nothing meanwhile, one such connection after the other.

    Other servers get only the Connection header.
    """
    sock = environ.get('gunicorn.socket')
    if sock is None:
        return
    previous = sock.gettimeout()
    try:
        sock.shutdown(socket.SHUT_WR)
        _drain(sock)
    except OSError:
        pass    # the client reset the connection, or its time passed
    try:
        sock.shutdown(socket.SHUT_RD)
    except OSError:
        pass    # the connection was reset
    sock.settimeout(previous)
    body.close(LINGER)


def _drain(sock):
    """Read and drop what comes until the client closes its side, for
    LINGER seconds and LINGER_BYTES at most."""
    deadline = time.monotonic() + LINGER
    drained = 0
    while drained < LINGER_BYTES:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return
        sock.settimeout(remaining)
        data = sock.recv(65536)
        if not data:
            return
        drained += len(data)

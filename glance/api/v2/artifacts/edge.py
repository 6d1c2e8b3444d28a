"""The HTTP edge of /v2/artifacts: request lines that Glance's own filters
cannot take, and connections whose request body was not read.

``UTF8Filter`` is the paste filter ``artifacts-utf8``. Placed before
Glance's ``versionnegotiation`` in a pipeline, it answers 400 to a request
for /v2/artifacts whose path or query string is not UTF-8 once
percent-decoded; ``versionnegotiation`` would otherwise fail on such a path
with a 500 before the request reaches the router. Every other request,
those of /v2/images included, passes through untouched.

``serve`` runs the router (and the filter's refusals) so that an answer
given before the request body was read to its end ends its connection:
otherwise the WSGI server reads what is left of the body, or waits for
the client to close, with a thread of its own, and a client that keeps
such connections open holds the server's threads with requests that were
already refused.

``file_sender`` lets the WSGI server send a blob's file itself
(``wsgi.file_wrapper``, sendfile) where the server sends exactly the bytes
asked for and tells how far it got.
"""

import contextlib
import functools
import os
import re
import socket
import threading
import time
import urllib.parse

import webob.dec
import webob.exc

# Paths that Glance's version negotiation sends to /v2/artifacts (it takes
# /v2.1 and the like for /v2), as PATH_INFO shows them before it runs.
ARTIFACTS_PATH = re.compile(r'/v2(\.[0-9]+)?/artifacts(/|$)')

# After an answer to a request whose body was not read, how long and how
# much more the client may send while it reads the answer.
LINGER = 1.0            # seconds
LINGER_BYTES = 1024 * 1024


def check_utf8(environ):
    """400 unless the path and the query string are UTF-8 once
    percent-decoded (overlong forms, such as %c0%af, and encoded surrogates,
    such as %ed%a0%80, are not UTF-8). PATH_INFO holds the path's bytes as
    Latin-1, already percent-decoded (PEP 3333); QUERY_STRING as sent."""
    try:
        environ.get('PATH_INFO', '').encode('latin-1').decode('utf-8')
    except UnicodeError:
        raise webob.exc.HTTPBadRequest(
            explanation='The path is not valid UTF-8.')
    try:
        urllib.parse.unquote_to_bytes(
            environ.get('QUERY_STRING', '').encode('latin-1')).decode('utf-8')
    except UnicodeError:
        raise webob.exc.HTTPBadRequest(
            explanation='The query string is not valid UTF-8.')


class UTF8Filter(object):
    """paste filter ``artifacts-utf8``: 400 for a request to /v2/artifacts
    whose path or query string is not UTF-8 (check_utf8), in the error
    format of the router's own 400s.

    Like Glance's filters, it can also be called with a webob Request and
    then returns a Response (Glance's functional tests call the outermost
    filter of a pipeline so)."""

    def __init__(self, app):
        self.app = app

    @webob.dec.wsgify
    def __call__(self, req):
        if ARTIFACTS_PATH.match(req.environ.get('PATH_INFO', '')):
            try:
                check_utf8(req.environ)
            except webob.exc.HTTPBadRequest as error:
                return req.get_response(functools.partial(serve, error))
        return req.get_response(self.app)

    @classmethod
    def factory(cls, global_conf, **local_conf):
        return cls


def _uwsgi(environ):
    """uWSGI's module when uWSGI serves the request, else None (it can be
    imported only inside uWSGI)."""
    if 'uwsgi.version' not in environ:
        return None
    import uwsgi
    return uwsgi


class Body(object):
    """The request body (``wsgi.input``), which notes whether it was read
    to its end: ``ended``. Reads through it are one at a time, so that
    ``close`` can wait for one in progress.

    It reads every framing the same way, from the request's own thread:
    under uWSGI, a chunked body comes from ``uwsgi.chunked_read`` (uWSGI's
    own ``wsgi.input`` gives none of it; ``--http-chunked-input`` is
    needed), which works only in that thread. Inside ``idle_timeout``, a
    read that waits too long for data raises TimeoutError.

    A client that asked to be told to send its body (``Expect:
    100-continue``, as curl does for uploads) is told so at the first
    read, as gunicorn does by itself; uWSGI's http-socket does not, and
    the client would wait a second before it sends.
    """

    def __init__(self, environ):
        self._input = environ['wsgi.input']
        self._sock = environ.get('gunicorn.socket')
        self._uwsgi = _uwsgi(environ)
        self._chunks = None     # uWSGI's chunked input, received, not read
        length = environ.get('CONTENT_LENGTH') or ''
        if length.isdigit():
            self._left = int(length)
        elif 'chunked' in environ.get('HTTP_TRANSFER_ENCODING', '').lower():
            self._left = None       # until a read finds the end
            if self._uwsgi is not None:
                self._chunks = bytearray()
                self._failed = None
                # webob reads a body without a length only when told so.
                environ['wsgi.input_terminated'] = True
        else:
            self._left = 0          # no body
        self.ended = self._left == 0
        self._closed = False
        self._timeout = None
        self._reading = threading.Lock()
        self._continue = (
            self._uwsgi is not None and not self.ended and
            environ.get('SERVER_PROTOCOL') == 'HTTP/1.1' and
            environ.get('HTTP_EXPECT', '').lower() == '100-continue')

    def read(self, size=-1):
        with self._reading:
            if self._closed:
                raise ConnectionAbortedError('The connection has ended.')
            whole = size is None or size < 0
            if self._continue:
                self._continue = False
                os.write(self._uwsgi.connection_fd(),
                         b'HTTP/1.1 100 Continue\r\n\r\n')
            try:
                if self._chunks is not None:
                    data = self._read_chunked(None if whole else size)
                else:
                    data = (self._input.read() if whole
                            else self._input.read(size))
            except OSError as e:
                # uWSGI ends a read that waited socket-timeout seconds so.
                if str(e).startswith('timeout during read'):
                    raise TimeoutError(str(e))
                raise
            if self._left is not None:
                self._left -= len(data)
            if whole or (size and not data) or (self._left is not None and
                                                self._left <= 0):
                self.ended = True
            return data

    def _read_chunked(self, size):
        buffer = self._chunks
        if self._failed is not None:
            raise self._failed
        while size is None or len(buffer) < size:
            started = time.monotonic()
            try:
                data = self._uwsgi.chunked_read(self._timeout or 0)
            except OSError as e:
                # uWSGI says the same when the client sent a malformed
                # chunk and when it sent none in time: the time tells.
                if self._timeout and (time.monotonic() - started >=
                                      self._timeout - 0.5):
                    e = TimeoutError('No chunk came for %d seconds.'
                                     % self._timeout)
                if not buffer:
                    raise e
                self._failed = e    # for the next read: this one has data
                break
            if not data:
                break
            buffer += data
        end = len(buffer) if size is None else size
        data = bytes(buffer[:end])
        del buffer[:end]
        return data

    @contextlib.contextmanager
    def idle_timeout(self, seconds):
        """Within it, a read that waits ``seconds`` for data raises
        TimeoutError where the server lets the application set the time:
        gunicorn (the connection's socket) and uWSGI's chunked input.
        Otherwise the server's own read timeout applies (uWSGI's
        socket-timeout), and ends a read with TimeoutError too."""
        if self._sock is not None:
            previous = self._sock.gettimeout()
            self._sock.settimeout(seconds)
        self._timeout = seconds
        try:
            yield
        finally:
            self._timeout = None
            if self._sock is not None:
                self._sock.settimeout(previous)

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
    started = []

    def start(status, headers, exc_info=None):
        started.append(True)
        if http1 and not body.ended:
            closing.append(True)
            headers = list(headers) + [('Connection', 'close')]
        return start_response(status, headers, exc_info)

    def then():
        if closing:
            end_connection(environ, body)

    result = app(environ, start)
    if started and not closing:
        return result   # as it is: a file_wrapper must reach the server
    return _ThenEnd(result, then)


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


def file_sender(environ):
    """``send(file, offset, length, sent)``: a response body with which
    the WSGI server itself sends ``length`` bytes of the open ``file``
    from ``offset`` (``wsgi.file_wrapper``: sendfile, the bytes never pass
    through Python) and then calls ``sent()``, once all of them are out;
    or None when this server cannot be trusted to do exactly that.

    Only gunicorn's file_wrapper is used: it sends from the file's
    position as many bytes as the response's Content-Length with
    ``socket.sendfile``, which leaves the file at the byte it reached even
    when the client goes away (how a download broken off is told from a
    whole one), and where it cannot send a file (TLS) it reads it
    instead. uWSGI's sends the whole file from its first byte, whatever
    the position and Content-Length, and does not say how far it got;
    other servers are not known to do better. For them the data goes
    through Python as before (``None``).
    """
    wrapper = environ.get('wsgi.file_wrapper')
    if not (isinstance(wrapper, type) and
            wrapper.__module__.startswith('gunicorn.')):
        return None
    return functools.partial(_send_file, wrapper)


SEND_BLOCK = 64 * 1024      # what the server reads at a time without sendfile


def _send_file(wrapper, file, offset, length, sent):
    return wrapper(_Window(file, offset, length, sent), SEND_BLOCK)


class _Window(object):
    """The bytes [offset, offset + length) of an open file, for a
    server's file_wrapper: its descriptor is at ``offset`` (sendfile
    starts there), ``read`` ends at the window's end, and ``seek`` notes
    the byte the server reached (``socket.sendfile`` seeks there when it
    stops, sent or not). ``sent()`` is called on ``close`` if the server
    went through the whole window: sendfile reached its end, or a read
    found nothing more after it (the server reads again only once it has
    written what it read)."""

    def __init__(self, file, offset, length, sent):
        file.seek(offset)
        self._file = file
        self._at = offset
        self._end = offset + length
        self._sent = sent
        self._whole = False

    def fileno(self):
        return self._file.fileno()

    def seek(self, position, whence=os.SEEK_SET):
        self._at = self._file.seek(position, whence)
        self._whole = self._at >= self._end
        return self._at

    def tell(self):
        return self._at

    def read(self, size=-1):
        left = self._end - self._at
        data = self._file.read(left if size is None or size < 0
                               else min(size, left))
        self._at += len(data)
        if not data:
            self._whole = self._at >= self._end
        return data

    def close(self):
        self._file.close()
        if self._whole:
            self._whole = False
            self._sent()


def end_connection(environ, body):
    """End the connection of a request whose body was not read, after the
    server has sent the answer.

    The end of the connection (FIN) follows the answer at once; what the
    client still sends is read and dropped until it closes its side, for
    LINGER seconds and LINGER_BYTES at most, so that a client still
    sending its body can read the answer rather than meet a reset (a
    connection closed with data unread is reset by the kernel); then the
    reading side is shut too. Whatever waits on the connection then sees
    its end at once: a read of ours still waiting in the body
    (``body.close`` waits for it), and the server itself.

    Under gunicorn, whose socket the environ carries: gunicorn drops an
    application's Connection header (hop-by-hop, PEP 3333) and would
    otherwise keep the connection: its gthread worker reads the rest of
    the body for up to five seconds in the request's thread, and when it
    gives up, waits up to two seconds for the client to close in its main
    loop, which accepts nothing meanwhile, one such connection after the
    other. Under uWSGI (its connection_fd, in the request's thread, where
    the server closes the response): uWSGI closes the connection with the
    rest of the body unread, which resets it, and the client may lose the
    answer. Other servers get only the Connection header.
    """
    sock = environ.get('gunicorn.socket')
    owned = None
    uwsgi = _uwsgi(environ)
    if sock is None and uwsgi is not None:
        sock = owned = socket.socket(fileno=os.dup(uwsgi.connection_fd()))
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
    if owned is not None:
        owned.close()   # our copy of the descriptor; uWSGI closes its own
    else:
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

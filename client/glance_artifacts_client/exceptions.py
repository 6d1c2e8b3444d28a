"""Errors of the artifacts client.

Every error's text is meant to be shown as it is: an HTTP error says what
the server said (its message, the status and the request id), not a
traceback.
"""

import html
import re


class ClientException(Exception):
    """Base of every error this client raises itself (keystoneauth's own
    errors, such as a connection failure, pass through unchanged)."""


class EndpointNotFound(ClientException):
    """No artifacts endpoint could be found in the service catalog."""


class NoUniqueMatch(ClientException):
    """A name names more than one artifact."""


class NoData(ClientException):
    """A blob has no data yet."""


class ChecksumMismatch(ClientException):
    """Downloaded data does not match the checksums the server sent."""


class IncompleteDownload(ClientException):
    """A download ended before all the data came."""


class HTTPError(ClientException):
    """The server answered with an error status."""

    status_code = None

    def __init__(self, message, status_code=None, request_id=None,
                 response=None):
        super(HTTPError, self).__init__(message)
        self.message = message
        if status_code is not None:
            self.status_code = status_code
        self.request_id = request_id
        self.response = response

    def __str__(self):
        text = self.message
        if self.status_code:
            text += ' (HTTP %s)' % self.status_code
        if self.request_id:
            text += ' (Request-ID: %s)' % self.request_id
        return text


class BadRequest(HTTPError):
    status_code = 400


class Unauthorized(HTTPError):
    status_code = 401


class Forbidden(HTTPError):
    status_code = 403


class NotFound(HTTPError):
    status_code = 404


class ArtifactNotFound(NotFound):
    """No artifact has the name (or id) looked for (found by a list, so
    the server's answer has no error status)."""
    status_code = None


class MethodNotAllowed(HTTPError):
    status_code = 405


class Conflict(HTTPError):
    status_code = 409


class RequestEntityTooLarge(HTTPError):
    status_code = 413


class UnsupportedMediaType(HTTPError):
    status_code = 415


class RangeNotSatisfiable(HTTPError):
    status_code = 416


class ServiceUnavailable(HTTPError):
    status_code = 503


_BY_STATUS = {cls.status_code: cls for cls in (
    BadRequest, Unauthorized, Forbidden, NotFound, MethodNotAllowed,
    Conflict, RequestEntityTooLarge, UnsupportedMediaType,
    RangeNotSatisfiable, ServiceUnavailable)}

_HEAD = re.compile(r'<head>.*?</head>|<h1>.*?</h1>', re.S | re.I)
_BREAK = re.compile(r'<br\s*/?>', re.I)
_TAG = re.compile(r'<[^>]+>')


def _plain(text):
    """The text of an error body of webob (JSON ``message`` or HTML), on
    one line: without markup, entities resolved."""
    text = _BREAK.sub('\n', _HEAD.sub('', text))
    text = html.unescape(_TAG.sub('', text))
    return ' '.join(line.strip() for line in text.splitlines()
                    if line.strip())


def message_of(response):
    """What the server said in an error response: the ``message`` of a
    webob JSON error body, ``error.message`` of a Keystone one, or the
    text of an HTML body; the status's reason when it said nothing."""
    try:
        body = response.json()
    except ValueError:
        body = None
    message = None
    if isinstance(body, dict):
        if isinstance(body.get('message'), str):
            message = body['message']
        elif isinstance(body.get('error'), dict):
            message = body['error'].get('message')
    elif not body and response.text:
        message = response.text
    message = _plain(message or '')
    return message or response.reason or 'HTTP error'


def from_response(response):
    """The HTTPError (of the subclass of its status) for ``response``."""
    cls = _BY_STATUS.get(response.status_code, HTTPError)
    return cls(message_of(response), status_code=response.status_code,
               request_id=response.headers.get('x-openstack-request-id'),
               response=response)

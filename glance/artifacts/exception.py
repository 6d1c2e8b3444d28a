"""Errors of the artifact domain. The HTTP layer maps each to a status.

Every message is meant for the person who sent the request.
"""

from glance.db.artifacts import errors


class ArtifactError(Exception):
    pass


# Every error of the domain and of the data API.
ERRORS = (ArtifactError, errors.DataError)


# Raised by the domain and by the data API alike (the registry checks
# calls as the domain does), so that they cross the registry unchanged.
Invalid = errors.Invalid            # 400: malformed or unacceptable value
Forbidden = errors.Forbidden        # 403: visible, but not the caller's to do
TooLarge = errors.TooLarge          # 413: over a size or count limit


class ReadOnly(Forbidden):
    """A field that clients cannot write (403)."""


class LocationRefused(Forbidden):
    """A recorded location of blob data (or an upload id) that names
    something outside the artifact data of its backend: the store layer
    reads and deletes nothing there (403). ``reason`` says what was wrong
    without showing the location, which clients never see."""

    def __init__(self, reason):
        self.reason = reason
        super(LocationRefused, self).__init__(
            'The recorded location of the blob data is refused: %s. The '
            'glance-api log names it for the operator.' % reason)


class UnknownType(ArtifactError):
    """No enabled type has that name (404)."""


class StorageFull(TooLarge):
    pass


class StoreUnavailable(ArtifactError):
    """The store cannot be reached or refused the write (503)."""


class Timeout(ArtifactError):
    """The client sent no data for too long (408)."""


class NoData(ArtifactError):
    """A blob without data yet (204, as images)."""


# Errors raised by the data API, under the domain's names.
NotFound = errors.NotFound          # 404
Duplicate = errors.Duplicate        # 409
Conflict = errors.Conflict          # 409
Changed = errors.Changed            # 409, once retries are spent
InvalidMarker = errors.InvalidMarker  # 400
OverLimit = errors.OverLimit        # 413
Unavailable = errors.Unavailable    # 503

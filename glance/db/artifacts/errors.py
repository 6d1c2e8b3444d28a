"""Errors the data API raises; every implementation raises these."""


class DataError(Exception):
    """Base of data API errors; str() is a message for people."""


class NotFound(DataError):
    pass


class Duplicate(DataError):
    pass


class Conflict(DataError):
    pass


class Changed(Conflict):
    """The artifact changed after the caller read it: what the caller
    decided may no longer hold. Reading it again and retrying may
    succeed."""


class InvalidMarker(DataError):
    pass


class OverLimit(DataError):
    """A write would take a project over one of its quota limits."""


class Unavailable(DataError):
    """The data API's backend (the registry) cannot be reached."""

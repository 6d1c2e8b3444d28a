"""Errors the data API raises; every implementation raises these."""


class DataError(Exception):
    """Base of data API errors; str() is a message for people."""


class NotFound(DataError):
    pass


class Forbidden(DataError):
    """The caller may not do this (an artifact of another project, a call
    that belongs to glance-api itself)."""


class Invalid(DataError):
    """A value the data API does not take (a location that is not the
    upload's, arguments of the wrong shape)."""


class TooLarge(DataError):
    """A value over a size or count limit."""


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

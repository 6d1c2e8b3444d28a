"""Range requests of blob downloads, as RFC 9110 (section 14) says.

A download serves one byte range of the data (206) or all of it (200).
The server may ignore a Range header (RFC 9110, 14.2), and does so for
every header it does not serve exactly: another unit than bytes, a
header that does not parse, several ranges, or a request that also has
If-Range (downloads have no validator to compare it with). A single
range that starts at or after the end of the data, or a suffix of zero
bytes, cannot be satisfied (416).
"""

import re

_SPEC = re.compile(r'([0-9]*)-([0-9]*)')
# Longer numbers lie beyond any size; int() would refuse the longest.
_MAX_DIGITS = 19


class Unsatisfiable(Exception):
    """The range lies outside the data (416)."""


def _number(digits):
    return int(digits) if len(digits) <= _MAX_DIGITS else 2 ** 64


def _less(digits, other):
    """Whether one decimal number is less than another, however long
    (the numbers beyond any size keep their order)."""
    a, b = digits.lstrip('0'), other.lstrip('0')
    return (len(a), a) < (len(b), b)


def byte_range(header, size):
    """(start, end) of the bytes to send (end exclusive) for a Range
    header and data of ``size`` bytes; None for all the data;
    Unsatisfiable for a range outside it."""
    if header is None:
        return None
    unit, equals, ranges = header.partition('=')
    if not equals or unit.strip().lower() != 'bytes':
        return None
    # A list may have empty elements (RFC 9110, 5.6.1).
    specs = [s.strip(' \t') for s in ranges.split(',') if s.strip(' \t')]
    if len(specs) != 1:
        return None
    match = _SPEC.fullmatch(specs[0])
    if match is None or match.group(0) == '-':
        return None
    first, last = match.groups()
    if not first:               # a suffix: the last N bytes
        length = _number(last)
        if length == 0 or size == 0:
            raise Unsatisfiable()
        return max(size - length, 0), size
    start = _number(first)
    if last and _less(last, first):
        return None             # invalid, so ignored
    if start >= size:
        raise Unsatisfiable()
    end = size if not last else min(_number(last) + 1, size)
    return start, end

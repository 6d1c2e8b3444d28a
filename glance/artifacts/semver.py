"""SemVer 2.0 parsing and a sort key whose string order is SemVer precedence.

The key uses only the characters 0-9 and a-z, so that every database
collation (case-insensitive MySQL ones and locale-aware PostgreSQL ones
included) orders keys the same way:

* major, minor and patch: one base-36 digit giving the number of decimal
  digits, then the digits;
* then ``z`` for a release, which sorts above every pre-release;
* or, for a pre-release, each identifier in turn: ``a`` + length digit +
  digits for a numeric identifier, ``b`` + its characters spelled as two
  letters from g-v (a nibble each) + ``f`` for an alphanumeric identifier.

Numeric identifiers sort below alphanumeric ones, numerically among
themselves; alphanumeric ones sort in ASCII order; a shorter list of equal
identifiers sorts first. Build metadata is not part of the key.
"""

import re

MAX_LENGTH = 128
MAX_NUMBER_DIGITS = 35

_SEMVER = re.compile(
    r'^(0|[1-9][0-9]{0,34})\.(0|[1-9][0-9]{0,34})\.(0|[1-9][0-9]{0,34})'
    r'(?:-((?:0|[1-9][0-9]{0,34}|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*)'
    r'(?:\.(?:0|[1-9][0-9]{0,34}|[0-9]*[a-zA-Z-][0-9a-zA-Z-]*))*))?'
    r'(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$')

# Numbers in versions have at most MAX_NUMBER_DIGITS digits (the key
# gives their length as one base-36 digit).
_LONG_NUMBER = re.compile(r'(^|[.-])[1-9][0-9]{%d}' % MAX_NUMBER_DIGITS)

_NIBBLES = 'ghijklmnopqrstuv'
_BASE36 = '0123456789abcdefghijklmnopqrstuvwxyz'


class InvalidVersion(ValueError):
    pass


def _number(digits):
    return _BASE36[len(digits)] + digits


def _identifier(ident):
    if ident.isdigit():
        return 'a' + _number(ident)
    spelled = ''.join(_NIBBLES[b >> 4] + _NIBBLES[b & 15]
                      for b in ident.encode('ascii'))
    return 'b' + spelled + 'f'


def parse(value):
    """Return the parts of a SemVer 2.0 string, or raise InvalidVersion."""
    if not isinstance(value, str):
        raise InvalidVersion('a version must be a string, not %s'
                             % type(value).__name__)
    if len(value) > MAX_LENGTH:
        raise InvalidVersion('a version may have at most %d characters'
                             % MAX_LENGTH)
    match = _SEMVER.fullmatch(value)
    if match is None and _LONG_NUMBER.search(value):
        raise InvalidVersion('a number in a version may have at most %d '
                             'digits' % MAX_NUMBER_DIGITS)
    if match is None:
        raise InvalidVersion(
            "'%s' is not a Semantic Version 2.0 string such as 1.0.0, "
            "2.1.0-rc.1 or 1.0.0+build.5" % value)
    return match.groups()


def sort_key(value):
    """The string whose order is the SemVer precedence of ``value``."""
    major, minor, patch, prerelease, _build = parse(value)
    key = _number(major) + _number(minor) + _number(patch)
    if prerelease is None:
        return key + 'z'
    return key + ''.join(_identifier(i) for i in prerelease.split('.'))


def key_length(value_length=MAX_LENGTH):
    """An upper bound of the key length for a version of that length."""
    return 2 * value_length + 8

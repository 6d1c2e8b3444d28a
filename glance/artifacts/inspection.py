"""Content inspection: what a type's inspector sees of a blob's data, the
bounded parsers it reads that data with, and when inspection runs.

A blob field may declare an inspector (``fields.Blob(inspector=...)``).
After an upload is stored and its digests checked, and before it becomes
the blob's data, the inspector is called as

    inspector(content, artifact, lookup) -> {field name: value}

* ``content`` (Content) is the uploaded data: ``read(limit)`` gives all
  of it, ``open()`` a seekable file over it that reads the store by byte
  ranges, so that a zip's central directory and the members an inspector
  asks for are read, not the whole blob;
* ``artifact`` is the artifact's API view as it was when the upload
  began;
* ``lookup(type_name, name, versions)`` is the id of the highest version
  of an artifact named ``name`` of ``type_name`` that the caller can see,
  whose version ``versions`` (a predicate on a version string, or None
  for any) accepts; None when there is none.

It raises exception.Invalid (or ValueError) to refuse the content: the
upload answers 400 and nothing is kept. The values it gives are checked
against the type's fields like a client's, references included, and are
written in the transaction that makes the data the blob's. A blob larger
than the field's ``inspect_on_activate_above`` is inspected when the
artifact is activated instead, and the values are written with the
status change. ``[artifacts] inspect_content = false`` turns inspection
off.

The parsers here refuse hostile content within bounded memory and time:
``load_yaml`` (no alias bombs, no recursive anchors, bounded size and
depth) and ``open_zip`` (no zip bombs, forged sizes, path tricks or
symlinks; nested archives are never opened).
"""

import datetime
import io
import json
import re
import stat
import struct
import time
import zipfile
import zlib

from oslo_config import cfg
from oslo_log import log as logging
import yaml

from glance.artifacts import catalog
from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import store

CONF = cfg.CONF
LOG = logging.getLogger(__name__)

KiB = 1024
MiB = 1024 * KiB

# -- limits ------------------------------------------------------------------
# What one inspection may cost. Each bounds the memory a hostile blob can
# make the server use (a few times the limit at most) and the time it
# takes (well under a second each on a modest CPU); together they keep an
# inspection under a few tens of MiB. Real templates and manifests are
# far below them.

#: The largest YAML (or JSON) document parsed.
YAML_MAX_BYTES = 4 * MiB
#: Nodes of a YAML document counted with every alias expanded: an alias
#: bomb ("billion laughs") is refused when it passes this, without being
#: expanded.
YAML_MAX_NODES = 100000
#: Nesting of collections in a YAML document.
YAML_MAX_DEPTH = 100
#: Entries of a zip archive.
ZIP_MAX_ENTRIES = 10000
#: The central directory of a zip archive (read whole, in memory; some
#: 200 bytes an entry).
ZIP_MAX_DIRECTORY = 4 * MiB
#: Bytes a zip member may inflate to when it is read.
MEMBER_MAX_BYTES = 4 * MiB
#: How many times its stored size a member may inflate to, once past
#: RATIO_FLOOR (text deflates some 3-20 times, a member of zeros 1000).
MEMBER_MAX_RATIO = 100
RATIO_FLOOR = 256 * KiB
#: The read-ahead of Content.open(): each range read from the store is at
#: least this long.
READ_AHEAD = 256 * KiB


def _invalid(where, message, *args):
    return exception.Invalid('%s: %s' % (where, message % args if args
                                         else message))


# -- what an inspector gets ----------------------------------------------

class Content(object):
    """The data of one upload, as an inspector reads it."""

    def __init__(self, field, key, size, backend, location):
        self.field = field
        self.key = key or None
        self.size = size
        self._backend = backend or None
        self._location = location
        #: Range reads from the store, and their bytes, for the tests and
        #: the benchmark to see what an inspection reads.
        self.reads = 0
        self.bytes_read = 0

    @property
    def where(self):
        """The blob as messages name it: field or field/key."""
        return self.field + ('/' + self.key if self.key else '')

    def read(self, limit):
        """All the data; Invalid when it is larger than ``limit``."""
        if self.size > limit:
            raise _invalid(self.where, 'too large to inspect: %d bytes, at '
                           'most %d', self.size, limit)
        return self.range(0, self.size)

    def range(self, offset, length):
        """``length`` bytes from ``offset`` (fewer at the end)."""
        length = max(0, min(length, self.size - offset))
        if length == 0:
            return b''
        data, _size = store.get(self._backend, self._location, offset,
                                length)
        parts, got = [], 0
        try:
            for chunk in data:
                chunk = chunk[:length - got]
                parts.append(chunk)
                got += len(chunk)
                if got >= length:
                    break
        except exception.ERRORS:
            raise
        except Exception as e:
            raise exception.StoreUnavailable(
                'The store could not give the data to inspect: %s' % e)
        finally:
            close = getattr(data, 'close', None)
            if close is not None:
                close()
        self.reads += 1
        self.bytes_read += got
        return b''.join(parts)

    def open(self):
        """A seekable, read-only binary file over the data."""
        return io.BufferedReader(_StoredFile(self), READ_AHEAD)


class _StoredFile(io.RawIOBase):
    """Reads of the data by byte ranges of the store."""

    def __init__(self, content):
        super(_StoredFile, self).__init__()
        self._content = content
        self._pos = 0

    def readable(self):
        return True

    def seekable(self):
        return True

    def tell(self):
        return self._pos

    def seek(self, offset, whence=io.SEEK_SET):
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos,
                io.SEEK_END: self._content.size}[whence]
        if base + offset < 0:
            raise OSError('seek before the start of the data')
        self._pos = base + offset
        return self._pos

    def readinto(self, buffer):
        data = self._content.range(self._pos, len(buffer))
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)


# -- YAML ----------------------------------------------------------------

_Loader = getattr(yaml, 'CSafeLoader', yaml.SafeLoader)
_START = (yaml.MappingStartEvent, yaml.SequenceStartEvent)
_END = (yaml.MappingEndEvent, yaml.SequenceEndEvent)


def _yaml_error(where, e):
    mark = getattr(e, 'problem_mark', None) or getattr(e, 'context_mark',
                                                       None)
    problem = getattr(e, 'problem', None) or getattr(e, 'context', None)
    if mark is not None and problem:
        return _invalid(where, 'invalid YAML at line %d, column %d: %s',
                        mark.line + 1, mark.column + 1, problem)
    if isinstance(e, yaml.reader.ReaderError):
        return _invalid(where, 'not YAML text: %s', e)
    return _invalid(where, 'invalid YAML: %s', e)


def load_yaml(data, where, max_bytes=YAML_MAX_BYTES):
    """The value of a YAML (or JSON) document, parsed by PyYAML's safe
    loader (libyaml's when there), or Invalid naming ``where`` and the
    line. Refused: more than ``max_bytes``, more than YAML_MAX_NODES nodes
    counted with aliases expanded, aliases that make a cycle, nesting
    deeper than YAML_MAX_DEPTH, more than one document."""
    if isinstance(data, str):
        data = data.encode('utf-8')
    if len(data) > max_bytes:
        raise _invalid(where, 'too large to inspect: %d bytes, at most %d',
                       len(data), max_bytes)
    try:
        _check_events(data, where)
        loader = _Loader(data)
        try:
            node = loader.get_single_node()
            if node is None:
                return None
            _check_expansion(node, where)
            return loader.construct_document(node)
        finally:
            loader.dispose()
    except yaml.YAMLError as e:
        error = _yaml_error(where, e)
        if data.lstrip()[:1] in (b'{', b'['):
            # JSON that YAML 1.1 does not take (tabs, say) is still JSON.
            return _load_json(data, where, error)
        raise error
    except RecursionError:
        raise _invalid(where, 'the YAML document nests too deeply')


def _check_events(data, where):
    """Nesting depth and node count, from the parser's events, one at a
    time: libyaml parses without recursion, and the composer and
    constructor (which recurse, and make objects of every node) then
    never see a document nested deeper than YAML_MAX_DEPTH or with more
    than YAML_MAX_NODES nodes."""
    loader = _Loader(data)
    try:
        depth = nodes = 0
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.NodeEvent):
                # Counted before the composer makes an object of each.
                nodes += 1
                if nodes > YAML_MAX_NODES:
                    raise _invalid(where, 'the YAML document has more than '
                                   '%d nodes (line %d)', YAML_MAX_NODES,
                                   event.start_mark.line + 1)
            if isinstance(event, _START):
                depth += 1
                if depth > YAML_MAX_DEPTH:
                    raise _invalid(
                        where, 'the YAML document nests more than %d '
                        'levels deep (line %d)', YAML_MAX_DEPTH,
                        event.start_mark.line + 1)
            elif isinstance(event, _END):
                depth -= 1
    finally:
        loader.dispose()


def _check_expansion(root, where):
    """Count the nodes of the composed graph as if every alias were
    expanded, each node once (memoised), without expanding anything; an
    alias to a node that contains it is a cycle."""
    sizes = {}
    on_path = set()
    stack = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        ident = id(node)
        if children_done:
            on_path.discard(ident)
            total = 1 + sum(sizes[id(c)] for c in _children(node))
            if total > YAML_MAX_NODES:
                raise _invalid(
                    where, 'the YAML document has more than %d nodes with '
                    'its aliases expanded (line %d)', YAML_MAX_NODES,
                    node.start_mark.line + 1)
            sizes[ident] = total
            continue
        if ident in sizes:
            continue
        if ident in on_path:
            raise _invalid(where, 'a YAML alias refers to a node that '
                           'contains it (line %d): recursive anchors are '
                           'not accepted', node.start_mark.line + 1)
        on_path.add(ident)
        stack.append((node, True))
        for child in _children(node):
            if id(child) in on_path:
                raise _invalid(where, 'a YAML alias refers to a node that '
                               'contains it (line %d): recursive anchors '
                               'are not accepted', node.start_mark.line + 1)
            if id(child) not in sizes:
                stack.append((child, False))


def _children(node):
    if isinstance(node, yaml.SequenceNode):
        return node.value
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    return ()


def _load_json(data, where, yaml_error):
    try:
        value = json.loads(data)
    except ValueError as e:
        lineno = getattr(e, 'lineno', None)
        if lineno is None:
            raise yaml_error
        raise _invalid(where, 'invalid JSON at line %d, column %d: %s',
                       lineno, e.colno, e.msg)
    except RecursionError:
        raise _invalid(where, 'the JSON document nests too deeply')
    nodes, todo = 0, [(value, 1)]
    while todo:
        item, depth = todo.pop()
        nodes += 1
        if depth > YAML_MAX_DEPTH or nodes > YAML_MAX_NODES:
            raise _invalid(where, 'the JSON document nests more than %d '
                           'levels deep or has more than %d nodes',
                           YAML_MAX_DEPTH, YAML_MAX_NODES)
        if isinstance(item, dict):
            todo += [(v, depth + 1) for v in item.values()]
        elif isinstance(item, list):
            todo += [(v, depth + 1) for v in item]
    return value


def scalar_text(value):
    """A YAML scalar as text: dates (which YAML reads from 2021-04-16) in
    ISO form, numbers as Python writes them."""
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, (int, float, str)):
        return str(value)
    return None


# -- zip -----------------------------------------------------------------

_EOCD = struct.Struct('<4s4H2LH')
_EOCD64_LOCATOR = struct.Struct('<4sLQL')
_EOCD64 = struct.Struct('<4sQ2H2L4Q')
_CD_ENTRY = struct.Struct('<4s6H3L5H2L')
_SAFE_COMPRESSION = (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
_DRIVE = re.compile(r'[A-Za-z]:')
_ZIP_ERRORS = (zipfile.BadZipFile, zipfile.LargeZipFile, struct.error,
               EOFError, ValueError, NotImplementedError, zlib.error,
               UnicodeDecodeError, OSError)


def _count_entries(fp, size, where):
    """The entries of a zip, counted in its central directory (found from
    its end records, and at most ZIP_MAX_DIRECTORY bytes) before zipfile
    reads that directory and makes an object of every entry."""
    tail_length = min(size, _EOCD.size + 65535)
    fp.seek(size - tail_length)
    tail = fp.read(tail_length)
    at = tail.rfind(b'PK\x05\x06')
    if at < 0 or len(tail) - at < _EOCD.size:
        raise _invalid(where, 'not a zip archive (no end of central '
                       'directory record)')
    cd_end = size - tail_length + at
    cd_size = _EOCD.unpack_from(tail, at)[5]
    locator = at - _EOCD64_LOCATOR.size
    if locator >= 0 and tail[locator:locator + 4] == b'PK\x06\x07':
        offset64 = _EOCD64_LOCATOR.unpack_from(tail, locator)[2]
        fp.seek(offset64)
        record = fp.read(_EOCD64.size)
        if len(record) == _EOCD64.size and record[:4] == b'PK\x06\x06':
            cd_size = _EOCD64.unpack(record)[8]
            cd_end = cd_end - _EOCD64_LOCATOR.size - _EOCD64.size
    if cd_size > ZIP_MAX_DIRECTORY:
        raise _invalid(where, 'the central directory of the zip archive '
                       'has %d bytes, at most %d', cd_size,
                       ZIP_MAX_DIRECTORY)
    if cd_size > cd_end:
        raise _invalid(where, 'not a valid zip archive: its central '
                       'directory would start before the data')
    fp.seek(cd_end - cd_size)
    directory = fp.read(cd_size)
    count, pos = 0, 0
    while pos + _CD_ENTRY.size <= len(directory) and \
            directory[pos:pos + 4] == b'PK\x01\x02':
        count += 1
        if count > ZIP_MAX_ENTRIES:
            raise _invalid(where, 'the zip archive has more than %d '
                           'entries', ZIP_MAX_ENTRIES)
        name_length, extra, comment = struct.unpack_from('<3H', directory,
                                                         pos + 28)
        name = directory[pos + _CD_ENTRY.size:
                         pos + _CD_ENTRY.size + name_length]
        if b'\x00' in name:
            # zipfile would cut the name there and show another one.
            raise _invalid(where, 'the zip entry %s is refused: a NUL or '
                           'control character in its name',
                           repr(name)[2:-1][:255])
        pos += _CD_ENTRY.size + name_length + extra + comment


class Archive(object):
    """A zip archive whose entries passed the checks of open_zip."""

    def __init__(self, zf, where):
        self._zf = zf
        self.where = where
        self._by_name = {}
        for info in zf.infolist():
            self._by_name[info.filename] = info

    def __contains__(self, name):
        return name in self._by_name

    def names(self):
        return sorted(self._by_name)

    def member_where(self, name):
        return '%s in %s' % (name, self.where)

    def read(self, name, limit=MEMBER_MAX_BYTES):
        """The inflated bytes of member ``name``: Invalid when it inflates
        past ``limit`` or MEMBER_MAX_RATIO times its stored size, whatever
        its header says, or when it is corrupt."""
        info = self._by_name.get(name)
        if info is None:
            raise _invalid(self.where, '%s is not in the archive', name)
        where = self.member_where(name)
        if info.is_dir():
            raise _invalid(where, 'a directory, not a file')
        parts, total = [], 0
        try:
            with self._zf.open(info) as member:
                while True:
                    chunk = member.read(64 * KiB)
                    if not chunk:
                        break
                    total += len(chunk)
                    if total > limit:
                        raise _invalid(where, 'inflates to more than %d '
                                       'bytes', limit)
                    if total > RATIO_FLOOR and total > (
                            MEMBER_MAX_RATIO * max(info.compress_size, 1)):
                        raise _invalid(
                            where, 'inflates to more than %d times its '
                            'stored size of %d bytes (a zip bomb?)',
                            MEMBER_MAX_RATIO, info.compress_size)
                    parts.append(chunk)
        except _ZIP_ERRORS as e:
            raise _invalid(where, 'corrupt zip member: %s', e)
        return b''.join(parts)

    def close(self):
        self._zf.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def check_member_name(name):
    """Why a member name is refused, or None: no absolute paths, drive
    letters, backslashes, '..' components, NUL or control characters."""
    if not name:
        return 'an empty name'
    if any(ord(c) < 32 or ord(c) == 127 for c in name):
        return 'a NUL or control character in its name'
    if '\\' in name:
        return 'a backslash in its name'
    if name.startswith('/'):
        return 'an absolute path'
    if _DRIVE.match(name):
        return 'a drive letter'
    if '..' in name.split('/'):
        return "a '..' component"
    return None


def normalized(name):
    """A member name without '.' and empty components (a/./b, a//b: a/b),
    as archive tools would write it out."""
    return '/'.join(p for p in name.split('/') if p not in ('', '.'))


def open_zip(source, where):
    """An Archive over a zip (Content, or a seekable binary file),
    refused with Invalid naming ``where`` when it is no zip, has more
    than ZIP_MAX_ENTRIES entries or a central directory over
    ZIP_MAX_DIRECTORY bytes, or an entry that is encrypted, compressed
    other than stored or deflated, a symbolic link, a duplicate (after
    normalising its name) or whose name plays a path trick."""
    if isinstance(source, Content):
        fp, size = source.open(), source.size
    else:
        fp = source
        size = fp.seek(0, io.SEEK_END)
    try:
        _count_entries(fp, size, where)
        fp.seek(0)
        zf = zipfile.ZipFile(fp)
    except exception.ERRORS:
        raise
    except _ZIP_ERRORS as e:
        raise _invalid(where, 'not a valid zip archive: %s', e)
    infos = zf.infolist()
    if len(infos) > ZIP_MAX_ENTRIES:
        zf.close()
        raise _invalid(where, 'the zip archive has more than %d entries',
                       ZIP_MAX_ENTRIES)
    seen = set()
    for info in infos:
        name = info.filename
        shown = repr(name)[1:-1][:255]
        problem = check_member_name(name)
        if problem is None and info.flag_bits & 0x1:
            problem = 'encrypted'
        if problem is None and info.compress_type not in _SAFE_COMPRESSION:
            problem = ('compressed with method %d (only stored and deflated '
                       'members are read)' % info.compress_type)
        if problem is None and stat.S_ISLNK(info.external_attr >> 16):
            problem = 'a symbolic link'
        key = normalized(name)
        if problem is None and key in seen:
            problem = 'a duplicate name'
        if problem is not None:
            zf.close()
            raise _invalid(where, 'the zip entry %s is refused: %s', shown,
                           problem)
        seen.add(key)
    return Archive(zf, where)


# -- running inspectors --------------------------------------------------

#: Versions of one name that lookup() looks through.
LOOKUP_MAX = 1000


def enabled():
    return CONF.artifacts.inspect_content


def _lookup(context, type_name, name, versions=None):
    records = catalog.data_api().artifact_list(
        context, type_name,
        filters=[{'where': 'column', 'column': 'name', 'op': 'eq',
                  'values': [name]}],
        sorts=[{'where': 'column', 'column': 'version_key', 'dir': 'desc'}],
        limit=LOOKUP_MAX, member_status='accepted')
    for record in records:
        if versions is None or versions(record['version']):
            return record['id']
    return None


def inspect(context, type_cls, name, key, blob, artifact, types):
    """The validated field values the inspector of blob field ``name``
    gives for ``blob`` (a blob row: size, backend, location), as the API
    shows them; Invalid when the content is refused."""
    field = type_cls.fields[name]
    content = Content(name, key, blob['size'], blob['backend'],
                      blob['location'])
    started = time.monotonic()

    def lookup(type_name, artifact_name, versions=None):
        return _lookup(context, type_name, artifact_name, versions)

    try:
        values = field.inspector(content, artifact, lookup)
    except (ValueError, f.InvalidValue) as e:
        raise _invalid(content.where, '%s', e)
    except RecursionError:
        raise _invalid(content.where, 'the content nests too deeply')
    if not isinstance(values, dict):
        raise TypeError('the inspector of %s.%s returned %r, not a dict'
                        % (type_cls.name, name, type(values).__name__))
    changes = {}
    for field_name, value in values.items():
        target = type_cls.fields.get(field_name)
        if target is None or isinstance(target, f.Blob):
            raise TypeError('the inspector of %s.%s gave %r, which is not '
                            'a field it can fill' % (type_cls.name, name,
                                                     field_name))
        changes[field_name] = catalog._validated(target, field_name, value)
    catalog._check_references(context, type_cls, artifact['id'], changes,
                              types or {type_cls.name: type_cls})
    LOG.info('Inspected %s of %s %s (%d bytes) in %.3f s: %d bytes read '
             'in %d range reads', content.where, type_cls.name,
             artifact['id'], content.size, time.monotonic() - started,
             content.bytes_read, content.reads)
    return changes


def at_upload(context, type_cls, name, key, blob, artifact, types):
    """Data API values (for blob_upload_finish) from inspecting an upload
    now, or None when it is not inspected now."""
    field = type_cls.fields[name]
    if not enabled() or not field.inspected_at_upload(blob['size']):
        return None
    changes = inspect(context, type_cls, name, key, blob, artifact, types)
    return catalog._values(type_cls, changes) if changes else None


def at_activation(context, type_cls, record, artifact, types):
    """Inspect the blobs that were too large to inspect at their upload:
    (the record as it would be with the values they give, data API
    values to write with the status change)."""
    if not enabled():
        return record, {}
    changes = {}
    for row in sorted(record['blobs'], key=lambda r: (r['field'], r['key'])):
        field = type_cls.fields.get(row['field'])
        if (not isinstance(field, f.Blob) or field.inspector is None or
                field.inspected_at_upload(row['size'])):
            continue
        changes.update(inspect(context, type_cls, row['field'], row['key'],
                               row, artifact, types))
    if not changes:
        return record, {}
    values = catalog._values(type_cls, changes)
    kept = [p for p in record['properties']
            if p['name'] not in values['properties']]
    added = [dict(r, name=n) for n, rows in values['properties'].items()
             for r in rows]
    return dict(record, properties=kept + added), values

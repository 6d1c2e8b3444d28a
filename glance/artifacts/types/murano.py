"""Murano application packages.

A package's content is inspected at upload: it must be a zip with a
manifest.yaml at its top whose FullName and Version are the artifact's
name and version; its Type, Classes, Tags, Categories, Name and Require
fill package_type, class_definitions, keywords, categories, display_name
and dependencies.
"""

import re

from glance.artifacts import exception
from glance.artifacts import fields as f
from glance.artifacts import inspection
from glance.artifacts import semver
from glance.artifacts.types import base

MANIFEST = 'manifest.yaml'
_PARTIAL = re.compile(r'(0|[1-9][0-9]*)(?:\.(0|[1-9][0-9]*))?')
_SPEC_ITEM = re.compile(r'(>=|<=|==|!=|=|>|<)?\s*(\S+)')


def normalize_version(text):
    """A Murano version as SemVer: partial versions are completed with
    zeros ("1" and "1.0" are 1.0.0), as Murano reads them; ValueError
    when it is no version."""
    text = str(text).strip()
    if _PARTIAL.fullmatch(text):
        parts = text.split('.')
        return '.'.join(parts + ['0'] * (3 - len(parts)))
    try:
        semver.sort_key(text)
    except semver.InvalidVersion as e:
        raise ValueError(str(e))
    return text


def parse_requirement(spec):
    """A predicate on version strings for a Murano version spec: null or
    '' (any version), an exact version ("1.2.3"; a partial one, "1.2",
    means every 1.2.x), or comparisons joined by commas (">=1.0,<2.0").
    ValueError when it cannot be read."""
    if spec is None:
        return lambda version: True
    text = str(spec).strip()
    if not text or text == '*':
        return lambda version: True
    tests = []
    for item in text.split(','):
        match = _SPEC_ITEM.fullmatch(item.strip())
        if match is None:
            raise ValueError("cannot read the version spec '%s'" % text)
        op, version = match.group(1) or '==', match.group(2)
        partial = _PARTIAL.fullmatch(version)
        try:
            low = semver.sort_key(normalize_version(version))
        except ValueError:
            raise ValueError("cannot read the version spec '%s'" % text)
        if op in ('==', '=') and partial and partial.group(2) is None:
            # "1": every 1.x.y
            high = semver.sort_key('%d.0.0' % (int(partial.group(1)) + 1))
            tests.append(lambda k, lo=low, hi=high: lo <= k < hi)
        elif op in ('==', '=') and partial:
            # "1.2": every 1.2.x
            high = semver.sort_key('%s.%d.0' % (partial.group(1),
                                                int(partial.group(2)) + 1))
            tests.append(lambda k, lo=low, hi=high: lo <= k < hi)
        else:
            tests.append({'==': lambda k, b=low: k == b,
                          '=': lambda k, b=low: k == b,
                          '!=': lambda k, b=low: k != b,
                          '>=': lambda k, b=low: k >= b,
                          '>': lambda k, b=low: k > b,
                          '<=': lambda k, b=low: k <= b,
                          '<': lambda k, b=low: k < b}[op])

    def accepts(version):
        key = semver.sort_key(version)
        return all(test(key) for test in tests)
    return accepts


def _strings(manifest, key, where):
    value = manifest.get(key)
    if value is None:
        return None
    if not isinstance(value, list) or not all(
            isinstance(v, str) for v in value):
        raise exception.Invalid('%s: %s must be a list of strings'
                                % (where, key))
    return value


def _mapping(manifest, key, where):
    value = manifest.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise exception.Invalid('%s: %s must be a mapping' % (where, key))
    return value


def inspect_package(content, artifact, lookup):
    with inspection.open_zip(content, content.where) as archive:
        if MANIFEST not in archive:
            raise exception.Invalid(
                '%s: %s is missing: a Murano package is a zip archive with '
                'its manifest at the top' % (content.where, MANIFEST))
        where = archive.member_where(MANIFEST)
        manifest = inspection.load_yaml(archive.read(MANIFEST), where)
        if not isinstance(manifest, dict):
            raise exception.Invalid('%s: the manifest must be a YAML '
                                    'mapping' % where)
        full_name = manifest.get('FullName')
        if not isinstance(full_name, str) or not full_name:
            raise exception.Invalid('%s: FullName is missing' % where)
        if full_name != artifact['name']:
            raise exception.Invalid(
                "%s: FullName '%s' differs from the artifact's name '%s'"
                % (where, full_name[:255], artifact['name']))
        text = manifest.get('Version', '0.0.0')
        try:
            version = normalize_version(text)
        except ValueError:
            raise exception.Invalid("%s: Version '%s' is not a version"
                                    % (where, str(text)[:64]))
        if semver.sort_key(version) != semver.sort_key(artifact['version']):
            raise exception.Invalid(
                "%s: Version '%s' (%s) differs from the artifact's version "
                "'%s'" % (where, text, version, artifact['version']))
        classes = _mapping(manifest, 'Classes', where)
        members = {inspection.normalized(n) for n in archive.names()}
        for class_name, path in classes.items():
            member = 'Classes/%s' % path
            if not isinstance(path, str) or \
                    inspection.check_member_name(path) is not None or \
                    inspection.normalized(member) not in members:
                raise exception.Invalid(
                    "%s: class %s: its file %s is not in the package"
                    % (where, str(class_name)[:255], member[:255]))
        values = {'package_type': manifest.get('Type', 'Application'),
                  'class_definitions': [str(c) for c in classes]}
        for key, field in (('Tags', 'keywords'),
                           ('Categories', 'categories')):
            listed = _strings(manifest, key, where)
            if listed is not None:
                values[field] = listed
        if manifest.get('Name') is not None:
            values['display_name'] = manifest['Name']
        dependencies = []
        for required, spec in _mapping(manifest, 'Require', where).items():
            try:
                accepts = parse_requirement(spec)
            except ValueError as e:
                raise exception.Invalid('%s: Require %s: %s'
                                        % (where, str(required)[:255], e))
            found = lookup('murano_packages', str(required), accepts)
            if found is not None and found not in dependencies:
                dependencies.append(found)
        values['dependencies'] = dependencies
        return values


class MuranoPackage(base.ArtifactType):
    name = 'murano_packages'
    display_name = 'Murano package'
    type_version = '1.1'
    description = 'A Murano application or library package (a zip ' \
                  'archive with its manifest and classes).'
    fields = {
        'package': f.Blob(max_size=2 ** 30, required_on_activate=True,
                          inspector=inspect_package,
                          description='The package archive: a zip with '
                                      'manifest.yaml at its top, whose '
                                      'FullName and Version are the '
                                      'artifact\'s name and version.'),
        'package_type': f.String(allowed_values=['Application', 'Library'],
                                 default='Application', required=True,
                                 sortable=True, filterable=True,
                                 description='Set from the manifest\'s '
                                             'Type at upload.'),
        'display_name': f.String(min_length=1, max_length=255,
                                 mutable=True, sortable=True,
                                 filterable=True,
                                 description='Set from the manifest\'s '
                                             'Name at upload.'),
        'categories': f.List(f.String(min_length=1), mutable=True,
                             filterable=True,
                             description='Set from the manifest\'s '
                                         'Categories at upload.'),
        'class_definitions': f.List(f.String(min_length=1),
                                    filterable=True,
                                    description='Fully qualified names of '
                                                'the classes the package '
                                                'defines; set from the '
                                                'manifest\'s Classes at '
                                                'upload.'),
        'keywords': f.List(f.String(min_length=1), mutable=True,
                           filterable=True,
                           description='Set from the manifest\'s Tags at '
                                       'upload.'),
        'dependencies': f.ReferenceList(
            allowed_types=['murano_packages'],
            description='Packages this one needs. At upload, set from '
                        'the manifest\'s Require: for each required '
                        'package, the highest version you can see that '
                        'its version spec accepts (an exact version, a '
                        'partial one such as 1.2 for every 1.2.x, '
                        'comparisons such as >=1.0,<2.0, or null for any); '
                        'a required package you cannot see is left out.'),
        'images': f.ReferenceList(
            allowed_types=['images'],
            description='Glance images the application deploys; each must '
                        'be an image you can see, and active for the '
                        'package to be activated.'),
    }

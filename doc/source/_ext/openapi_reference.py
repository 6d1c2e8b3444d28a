"""A Sphinx directive that renders an OpenAPI 3 document as a reference.

    .. openapi:: ../api/openapi.json

reads the JSON document (a path relative to the page, or to the source
directory when it starts with ``/``) when the page is built and writes,
as docutils nodes:

- an overview table of every operation (method, path, summary), each
  linked to its section;
- one section per tag (operations without tags under "General"), and in
  it one section per operation: summary, description, parameters (name,
  location, type, whether required, description and constraints), the
  request body (media types and schema), and every response (status
  code, description, media types with their schemas, headers);
- the shared responses of ``components/responses``;
- the schemas of ``components/schemas``, each property with its type,
  whether it is required, and its description and constraints.

``$ref`` pointers inside the document become links to the sections of
the schemas and responses they name; a pointer that names nothing is a
Sphinx warning (an error under ``-W``). Nothing is fetched and nothing is
written beside the document: the build reads the document again whenever
it changes.
"""

import json
import os

from docutils import nodes
from sphinx.util import logging
from sphinx.util.docutils import SphinxDirective

LOG = logging.getLogger(__name__)

METHODS = ('get', 'post', 'put', 'patch', 'delete', 'head', 'options',
           'trace')

# Keywords shown as constraints, in this order, with how to show them.
CONSTRAINTS = (
    ('enum', 'one of: {}'),
    ('const', 'always {}'),
    ('default', 'default: {}'),
    ('format', 'format: {}'),
    ('pattern', 'pattern: {}'),
    ('minLength', 'min. length {}'),
    ('maxLength', 'max. length {}'),
    ('minimum', 'minimum {}'),
    ('exclusiveMinimum', 'greater than {}'),
    ('maximum', 'maximum {}'),
    ('exclusiveMaximum', 'less than {}'),
    ('minItems', 'min. {} items'),
    ('maxItems', 'max. {} items'),
    ('minProperties', 'min. {} keys'),
    ('maxProperties', 'max. {} keys'),
    ('x-max-size', 'data of at most {}'),
    ('x-allowed-types', 'ids of artifacts of type {}'),
    ('x-allowed-versions', 'of a version in {}'),
    ('x-glance-artifacts', 'flags: {}'),
)
# Lower bounds of 0 say nothing.
NOTHING = {'minLength': 0, 'minItems': 0, 'minProperties': 0}
# Constraints whose values are shown as literals.
LITERAL = ('enum', 'const', 'default', 'pattern')


def _size(value):
    """A size in bytes, in the largest binary unit that divides it."""
    for unit, factor in (('TiB', 2 ** 40), ('GiB', 2 ** 30),
                         ('MiB', 2 ** 20), ('KiB', 2 ** 10)):
        if isinstance(value, int) and value >= factor and \
                not value % factor:
            return '%d %s' % (value // factor, unit)
    return '%s bytes' % value


def _show(value):
    """A JSON value as it appears in constraints."""
    if isinstance(value, list):
        return ', '.join(_show(v) for v in value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _paragraph(*children):
    para = nodes.paragraph()
    for child in children:
        para += child if isinstance(child, nodes.Node) else nodes.Text(child)
    return para


def _table(headers, rows, widths):
    """A table node; each cell of ``rows`` is a list of body nodes."""
    table = nodes.table(classes=['openapi-table', 'colwidths-given'])
    group = nodes.tgroup(cols=len(headers))
    table += group
    for width in widths:
        group += nodes.colspec(colwidth=width)
    head = nodes.thead()
    group += head
    head += _row([[_paragraph(h)] for h in headers])
    body = nodes.tbody()
    group += body
    for cells in rows:
        body += _row(cells)
    return table


def _row(cells):
    row = nodes.row()
    for cell in cells:
        entry = nodes.entry()
        entry.extend(cell)
        row += entry
    return row


class Renderer(object):
    """Turns one OpenAPI document into a list of nodes."""

    def __init__(self, document, directive):
        self.doc = document
        self.directive = directive
        servers = document.get('servers') or [{}]
        self.prefix = (servers[0].get('url') or '').rstrip('/')
        self.ids = set()
        self.schema_ids = {name: self._new_id('openapi-schema-' + name)
                           for name in sorted(
                               self._components('schemas'))}
        self.response_ids = {name: self._new_id('openapi-response-' + name)
                             for name in sorted(
                                 self._components('responses'))}

    # -- helpers ----------------------------------------------------------

    def _components(self, kind):
        return (self.doc.get('components') or {}).get(kind) or {}

    def _new_id(self, text):
        base = nodes.make_id(text) or 'openapi'
        node_id, n = base, 1
        while node_id in self.ids:
            n += 1
            node_id = '%s-%d' % (base, n)
        self.ids.add(node_id)
        return node_id

    def _warn(self, message):
        LOG.warning('OpenAPI document: %s', message,
                    location=self.directive.get_location())

    def _pointer(self, ref):
        """The part of the document a local $ref names, or None."""
        if not ref.startswith('#/'):
            self._warn('only local references are supported: %s' % ref)
            return None
        node = self.doc
        for token in ref[2:].split('/'):
            token = token.replace('~1', '/').replace('~0', '~')
            if isinstance(node, dict) and token in node:
                node = node[token]
            elif isinstance(node, list) and token.isdigit() and \
                    int(token) < len(node):
                node = node[int(token)]
            else:
                self._warn('the reference %s names nothing' % ref)
                return None
        return node

    def _resolve(self, item):
        """``item`` with a $ref followed (parameters, responses)."""
        seen = set()
        while isinstance(item, dict) and '$ref' in item:
            ref = item['$ref']
            if ref in seen:
                self._warn('the reference %s is circular' % ref)
                return {}
            seen.add(ref)
            item = self._pointer(ref)
            if item is None:
                return {}
        return item

    def _section(self, title, node_id, title_nodes=None):
        section = nodes.section(ids=[node_id])
        section += nodes.title(title, '', *(title_nodes or
                                            [nodes.Text(title)]))
        return section

    def _schema_link(self, ref):
        name = ref.rsplit('/', 1)[-1].replace('~1', '/').replace('~0', '~')
        if ref.startswith('#/components/schemas/') and \
                name in self.schema_ids:
            return nodes.reference('', name, internal=True,
                                   refid=self.schema_ids[name])
        if self._pointer(ref) is None:
            return nodes.Text(ref)
        return nodes.literal(ref, ref)

    # -- schemas ----------------------------------------------------------

    def type_nodes(self, schema):
        """Inline nodes that say what a schema is: a link to a named
        schema, or the JSON type(s) with items or values."""
        if not isinstance(schema, dict):
            return [nodes.Text('any')]
        if '$ref' in schema:
            return [self._schema_link(schema['$ref'])]
        for combiner, word in (('oneOf', ' or '), ('anyOf', ' or '),
                               ('allOf', ' and ')):
            if schema.get(combiner):
                out = []
                for i, sub in enumerate(schema[combiner]):
                    if i:
                        out.append(nodes.Text(word))
                    out.extend(self.type_nodes(sub))
                return out
        types = schema.get('type')
        if types is None:
            types = ['object'] if 'properties' in schema else []
        elif not isinstance(types, list):
            types = [types]
        if not types:
            return [nodes.Text('any')]
        out = []
        for i, name in enumerate(types):
            if i:
                out.append(nodes.Text(' or '))
            out.append(nodes.Text(name))
            if name == 'array' and isinstance(schema.get('items'), dict):
                out.append(nodes.Text(' of '))
                out.extend(self.type_nodes(schema['items']))
            elif name == 'object' and isinstance(
                    schema.get('additionalProperties'), dict) and \
                    not schema.get('properties'):
                out.append(nodes.Text(' mapping keys to '))
                out.extend(self.type_nodes(schema['additionalProperties']))
        return out

    def constraint_nodes(self, schema):
        """Description and constraints of a schema, as inline nodes."""
        out = []
        if not isinstance(schema, dict):
            return out
        if schema.get('description'):
            out.append(nodes.Text(schema['description']))
        notes = []
        if schema.get('readOnly'):
            notes.append(nodes.Text('read-only'))
        if schema.get('writeOnly'):
            notes.append(nodes.Text('write-only'))
        if schema.get('deprecated'):
            notes.append(nodes.Text('deprecated'))
        notes.extend(self._constraints(schema))
        for sub in (schema.get('items'), schema.get('additionalProperties')):
            if isinstance(sub, dict) and '$ref' not in sub and \
                    not sub.get('properties'):
                notes.extend(self._constraints(sub, 'each value: '))
        if not notes:
            return out
        if out:
            out.append(nodes.Text(' ('))
        for i, note in enumerate(notes):
            if i:
                out.append(nodes.Text('; '))
            out.append(note)
        if schema.get('description'):
            out.append(nodes.Text(')'))
        return out

    def _constraints(self, schema, lead=''):
        out = []
        for keyword, template in CONSTRAINTS:
            if keyword not in schema or \
                    NOTHING.get(keyword, object()) == schema[keyword]:
                continue
            if lead and keyword == 'x-glance-artifacts':
                continue
            value = schema[keyword]
            text = template.format(_size(value) if keyword == 'x-max-size'
                                   else _show(value))
            if keyword in LITERAL:
                head, _, value_text = text.partition(': ')
                out.append(nodes.inline('', lead + head + ': ',
                                        nodes.literal(value_text,
                                                      value_text)))
            else:
                out.append(nodes.Text(lead + text))
        return out

    def property_rows(self, schema, prefix='', depth=0):
        """(name, schema, required) of every property of an object
        schema, nested objects, array items and map values flattened into
        dotted names (``a.b``, ``a[].b``, ``a.*.b``)."""
        if not isinstance(schema, dict) or '$ref' in schema or depth > 8:
            return
        required = set(schema.get('required') or ())
        for name, sub in (schema.get('properties') or {}).items():
            full = prefix + name
            yield full, sub, name in required
            yield from self._nested_rows(sub, full, depth)

    def _nested_rows(self, sub, full, depth):
        if not isinstance(sub, dict) or '$ref' in sub:
            return
        if sub.get('properties'):
            yield from self.property_rows(sub, full + '.', depth + 1)
        items = sub.get('items')
        if isinstance(items, dict) and items.get('properties'):
            yield from self.property_rows(items, full + '[].', depth + 1)
        values = sub.get('additionalProperties')
        if isinstance(values, dict) and values.get('properties'):
            yield from self.property_rows(values, full + '.*.', depth + 1)

    def schema_body(self, schema):
        """Body nodes describing a schema: its type and its properties."""
        out = [_paragraph(nodes.strong('Type: ', 'Type: '),
                          *self.type_nodes(schema))]
        top = schema
        if isinstance(schema, dict) and not schema.get('properties') and \
                isinstance(schema.get('items'), dict) and \
                schema['items'].get('properties'):
            top = schema['items']
            out.append(_paragraph('Each item of the array:'))
        rows = [[[_paragraph(nodes.literal(name, name))],
                 [_paragraph(*self.type_nodes(sub))],
                 [_paragraph('yes' if required else 'no')],
                 [_paragraph(*self.constraint_nodes(sub))]]
                for name, sub, required in self.property_rows(top)]
        if rows:
            out.append(_table(['Field', 'Type', 'Required', 'Description'],
                              rows, [32, 16, 11, 41]))
        if isinstance(top, dict) and top.get('additionalProperties') is False:
            out.append(_paragraph('No other fields are allowed.'))
        return out

    # -- operations -------------------------------------------------------

    def operations(self):
        """(path, method, operation) in the document's order."""
        for path, item in (self.doc.get('paths') or {}).items():
            item = self._resolve(item)
            for method in METHODS:
                if method in item:
                    yield path, method, item[method], item

    def parameters_table(self, path_item, operation):
        params = {}
        for param in (path_item.get('parameters') or []) + \
                (operation.get('parameters') or []):
            param = self._resolve(param)
            if param:
                params[(param.get('name'), param.get('in'))] = param
        if not params:
            return []
        rows = []
        for param in params.values():
            schema = param.get('schema') or {}
            merged = {k: v for k, v in schema.items() if k != 'description'}
            if param.get('description'):
                merged['description'] = param['description']
            if param.get('deprecated'):
                merged['deprecated'] = True
            description = self.constraint_nodes(merged)
            if param.get('explode') and schema.get('type') == 'array':
                description.append(nodes.Text(
                    ' Repeat the parameter for each value.'))
            rows.append([[_paragraph(nodes.literal(param['name'],
                                                   param['name']))],
                         [_paragraph(param.get('in', ''))],
                         [_paragraph(*self.type_nodes(schema))],
                         [_paragraph('yes' if param.get('required')
                                     else 'no')],
                         [_paragraph(*description)]])
        return [_paragraph(nodes.strong('Parameters', 'Parameters')),
                _table(['Name', 'In', 'Type', 'Required', 'Description'],
                       rows, [22, 8, 10, 11, 49])]

    def content_list(self, content):
        """A bullet list of media types and their schemas."""
        items = nodes.bullet_list()
        for media_type, media in (content or {}).items():
            para = _paragraph(nodes.literal(media_type, media_type))
            schema = (media or {}).get('schema')
            if schema is not None:
                para += nodes.Text(': ')
                para.extend(self.type_nodes(schema))
            items += nodes.list_item('', para)
        return items

    def request_body(self, operation):
        body = operation.get('requestBody')
        if not body:
            return []
        body = self._resolve(body)
        title = 'Request body (%s)' % ('required' if body.get('required')
                                       else 'optional')
        out = [_paragraph(nodes.strong(title, title))]
        if body.get('description'):
            out.append(_paragraph(body['description']))
        out.append(self.content_list(body.get('content')))
        return out

    def responses_table(self, operation):
        rows = []
        for status, response in (operation.get('responses') or {}).items():
            shared = None
            if isinstance(response, dict) and '$ref' in response:
                name = response['$ref'].rsplit('/', 1)[-1]
                shared = self.response_ids.get(name)
            response = self._resolve(response)
            description = [_paragraph(response.get('description', ''))]
            if shared:
                description[0] += nodes.Text(' (')
                description[0] += nodes.reference(
                    '', name, internal=True, refid=shared)
                description[0] += nodes.Text(')')
            elif response.get('content'):
                description.append(self.content_list(response['content']))
            headers = response.get('headers') or {}
            if headers:
                items = nodes.bullet_list()
                for name, header in headers.items():
                    header = self._resolve(header)
                    para = _paragraph(nodes.literal(name, name))
                    if header.get('description'):
                        para += nodes.Text(': ' + header['description'])
                    items += nodes.list_item('', para)
                description.append(items)
            rows.append([[_paragraph(nodes.strong(status, status))],
                         description])
        if not rows:
            return []
        return [_paragraph(nodes.strong('Responses', 'Responses')),
                _table(['Status', 'Description'], rows, [10, 90])]

    def operation_section(self, path, method, operation, path_item, node_id):
        full = self.prefix + path
        title = '%s %s' % (method.upper(), full)
        section = self._section(title, node_id, [
            nodes.Text(method.upper() + ' '), nodes.literal(full, full)])
        if operation.get('summary'):
            section += _paragraph(operation['summary'])
        if operation.get('description'):
            for text in operation['description'].split('\n\n'):
                section += _paragraph(text.strip())
        if operation.get('deprecated'):
            section += _paragraph(nodes.strong('Deprecated.',
                                               'Deprecated.'))
        if operation.get('operationId'):
            section += _paragraph(
                'Operation id: ',
                nodes.literal(operation['operationId'],
                              operation['operationId']))
        section.extend(self.parameters_table(path_item, operation))
        section.extend(self.request_body(operation))
        section.extend(self.responses_table(operation))
        return section

    # -- the whole document -----------------------------------------------

    def render(self):
        out = []
        info = self.doc.get('info') or {}
        intro = _paragraph(
            nodes.strong(info.get('title', 'API'), info.get('title', 'API')),
            ' version %s (OpenAPI %s), served under '
            % (info.get('version', '?'), self.doc.get('openapi', '?')),
            nodes.literal(self.prefix or '/', self.prefix or '/'), '.')
        out.append(intro)
        if info.get('description'):
            out.append(_paragraph(info['description']))

        groups = {}
        tag_info = {t.get('name'): t for t in self.doc.get('tags') or []}
        for name in tag_info:
            groups.setdefault(name, [])
        summary_rows = []
        for path, method, operation, item in self.operations():
            node_id = self._new_id('openapi-op-%s-%s' % (method, path))
            tag = (operation.get('tags') or ['General'])[0]
            groups.setdefault(tag, []).append(
                (path, method, operation, item, node_id))
            full = self.prefix + path
            summary_rows.append([
                [_paragraph(nodes.strong(method.upper(), method.upper()))],
                [_paragraph(nodes.reference('', '', nodes.literal(full, full),
                                            internal=True, refid=node_id))],
                [_paragraph(operation.get('summary', ''))]])

        overview = self._section('Operations at a glance',
                                 self._new_id('openapi-overview'))
        overview += _table(['Method', 'Path', 'Summary'], summary_rows,
                           [8, 50, 42])
        out.append(overview)

        for tag, operations in groups.items():
            if not operations:
                continue
            section = self._section(tag, self._new_id('openapi-tag-' + tag))
            if tag_info.get(tag, {}).get('description'):
                section += _paragraph(tag_info[tag]['description'])
            for path, method, operation, item, node_id in operations:
                section += self.operation_section(path, method, operation,
                                                  item, node_id)
            out.append(section)

        responses = self._components('responses')
        if responses:
            section = self._section('Shared responses',
                                    self._new_id('openapi-responses'))
            rows = []
            for name in sorted(responses):
                response = self._resolve(responses[name])
                body = [_paragraph(response.get('description', ''))]
                if response.get('content'):
                    body.append(self.content_list(response['content']))
                rows.append([[_paragraph(nodes.strong(name, name))], body])
            table = _table(['Name', 'Description and bodies'], rows,
                           [15, 85])
            # Each row is the target of the operations' links to it.
            body = table[0][-1]
            for name, row in zip(sorted(responses), body.children):
                row['ids'].append(self.response_ids[name])
            section += table
            out.append(section)

        schemas = self._components('schemas')
        if schemas:
            section = self._section('Schemas',
                                    self._new_id('openapi-schemas'))
            for name in sorted(schemas):
                schema = schemas[name]
                sub = self._section(name, self.schema_ids[name])
                if isinstance(schema, dict) and schema.get('description'):
                    sub += _paragraph(schema['description'])
                sub.extend(self.schema_body(schema))
                section += sub
            out.append(section)
        return out


class OpenAPIDirective(SphinxDirective):
    """``.. openapi:: PATH``: the reference of the OpenAPI document."""

    required_arguments = 1
    optional_arguments = 0
    has_content = False

    def run(self):
        relative, path = self.env.relfn2path(self.arguments[0],
                                             self.env.docname)
        self.env.note_dependency(relative)
        try:
            with open(path, encoding='utf-8') as f:
                document = json.load(f)
        except (OSError, ValueError) as e:
            raise self.error('cannot read the OpenAPI document %s: %s'
                             % (path, e))
        if not isinstance(document, dict) or 'paths' not in document:
            raise self.error('%s is not an OpenAPI document (no "paths")'
                             % path)
        return Renderer(document, self).render()


CSS = 'openapi-reference.css'


def _add_static_path(app):
    """Serve this extension's style sheet (long patterns and header
    names wrap in the tables instead of overflowing them)."""
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        'static')
    if here not in app.config.html_static_path:
        app.config.html_static_path.append(here)


def setup(app):
    app.add_directive('openapi', OpenAPIDirective)
    app.connect('builder-inited', _add_static_path)
    app.add_css_file(CSS)
    return {'version': '1.0', 'parallel_read_safe': True,
            'parallel_write_safe': True}

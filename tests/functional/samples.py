"""Sample content for the inspection tests, made in code: Heat templates
and environments, Murano packages, TOSCA templates and CSARs, and the
hostile inputs (alias bombs, zip bombs, path tricks) built cheaply."""

import io
import json
import stat
import struct
import zipfile

MiB = 1024 * 1024

HOT = """\
heat_template_version: 2021-04-16
description: A web server and its port
parameters:
  flavor:
    type: string
    default: m1.small
  count:
    type: number
  debug:
    type: boolean
resources:
  server:
    type: OS::Nova::Server
    properties:
      flavor: {get_param: flavor}
outputs:
  address:
    value: {get_attr: [server, first_address]}
  name:
    value: {get_attr: [server, name]}
"""

HOT_JSON = json.dumps({
    'heat_template_version': 'wallaby',
    'parameters': {'key': {'type': 'comma_delimited_list'}},
    'resources': {}})

ENVIRONMENT = """\
parameters:
  flavor: m1.large
parameter_defaults:
  count: 2
resource_registry:
  My::Server: server.yaml
"""

TOSCA = """\
tosca_definitions_version: tosca_simple_yaml_1_3
description: A web server
topology_template:
  node_templates:
    web:
      type: tosca.nodes.WebServer
"""


def billion_laughs(levels=10, width=10):
    """Each level an alias list of the one before: width ** levels nodes
    expanded, a few hundred bytes written."""
    lines = ['a0: &a0 ["lol"]']
    for i in range(1, levels):
        lines.append('a%d: &a%d [%s]' % (i, i, ', '.join(
            ['*a%d' % (i - 1)] * width)))
    return ('heat_template_version: 2021-04-16\n'
            'parameters: {}\nresources:\n  bomb:\n    type: x\n'
            '    properties:\n' +
            ''.join('      %s\n' % line for line in lines)).encode()


def zip_bytes(members, compression=zipfile.ZIP_DEFLATED):
    """A zip of members: [(name or ZipInfo, bytes)]."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, 'w', compression) as zf:
        for name, data in members:
            zf.writestr(name, data)
    return buf.getvalue()


def manifest(**overrides):
    doc = {'Format': 'MuranoPL/1.0', 'Type': 'Library',
           'FullName': 'io.example.Web', 'Name': 'Web server',
           'Version': '1.2', 'Tags': ['web', 'http'],
           'Categories': ['Web'],
           'Classes': {'io.example.Web': 'Web.yaml',
                       'io.example.Port': 'net/Port.yaml'}}
    doc.update(overrides)
    return json.dumps({k: v for k, v in doc.items() if v is not None})


def murano_package(manifest_text=None, extra=()):
    return zip_bytes([('manifest.yaml', manifest_text or manifest()),
                      ('Classes/Web.yaml', 'Name: io.example.Web\n'),
                      ('Classes/net/Port.yaml', 'Name: io.example.Port\n')] +
                     list(extra))


def csar(entry='Definitions/main.yaml', template=TOSCA, meta=None,
         extra=()):
    meta = meta if meta is not None else (
        'TOSCA-Meta-File-Version: 1.0\nCSAR-Version: 1.1\n'
        'Created-By: tests\nEntry-Definitions: %s\n' % entry)
    return zip_bytes([('TOSCA-Metadata/TOSCA.meta', meta),
                      (entry, template)] + list(extra))


def symlink_entry(name):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info


def forged_size(data, name, size):
    """``data`` (a zip) with the central directory's uncompressed size of
    ``name`` replaced by ``size``."""
    out = bytearray(data)
    pos = out.find(b'PK\x01\x02')
    while pos >= 0:
        n = struct.unpack_from('<H', out, pos + 28)[0]
        if out[pos + 46:pos + 46 + n] == name.encode():
            struct.pack_into('<L', out, pos + 24, size)
            return bytes(out)
        pos = out.find(b'PK\x01\x02', pos + 4)
    raise KeyError(name)


def with_name_bytes(data, old, new):
    """A zip with a member name replaced (by one of the same length) in
    its headers."""
    if len(old) != len(new):
        raise ValueError('names of different lengths')
    return data.replace(old, new)


def flag_encrypted(data, name):
    out = bytearray(data)
    pos = out.find(b'PK\x01\x02')
    while pos >= 0:
        n = struct.unpack_from('<H', out, pos + 28)[0]
        if out[pos + 46:pos + 46 + n] == name.encode():
            flags = struct.unpack_from('<H', out, pos + 8)[0]
            struct.pack_into('<H', out, pos + 8, flags | 0x1)
            return bytes(out)
        pos = out.find(b'PK\x01\x02', pos + 4)
    raise KeyError(name)

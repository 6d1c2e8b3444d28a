"""Glance's images, as a read-only artifact type.

Its records are Glance's own images, read through Glance's database API
with the caller's context (glance.db.artifacts.images): nothing is
copied and nothing migrates. The common fields map from the image:
``version`` from the image property ``artifact_version`` when it holds a
Semantic Version (else 0.0.0), ``description`` from the property
``description``, ``status`` active, deactivated or (queued, saving,
uploading, importing) drafted, ``metadata`` every image property. Images
change through /v2/images; the data blob redirects there.
"""

from glance.artifacts import fields as f
from glance.artifacts.types import base
from glance.db.artifacts import images


def _field(kind, description):
    return kind(filterable=True, sortable=True, readonly=True,
                description=description)


class Image(base.ArtifactType):
    name = images.TYPE_NAME
    display_name = 'Image'
    type_version = images.TYPE_VERSION
    description = ("Glance's images, read-only: create, change and upload "
                   "them at /v2/images.")
    read_only = True
    fields = {
        'disk_format': _field(f.String, 'The disk format of the image.'),
        'container_format': _field(f.String,
                                   'The container format of the image.'),
        'size': _field(f.Integer, 'The size of the image data in bytes.'),
        'virtual_size': _field(f.Integer,
                               'The virtual size of the disk in bytes.'),
        'checksum': _field(f.String, 'The MD5 checksum of the data.'),
        'os_hash_algo': _field(f.String,
                               'The algorithm of os_hash_value.'),
        'os_hash_value': _field(f.String,
                                'The secure hash of the data.'),
        'min_disk': _field(f.Integer,
                           'Disk space in GB needed to boot the image.'),
        'min_ram': _field(f.Integer,
                          'RAM in MB needed to boot the image.'),
        'os_hidden': _field(f.Boolean,
                            'Hidden images are listed only with '
                            'os_hidden=true, as in GET /v2/images.'),
        'image_status': _field(f.String,
                               "The image's own status (queued, saving, "
                               "active, ...)."),
        'data': f.Blob(readonly=True,
                       description="The image's data: a GET redirects to "
                                   "/v2/images/{id}/file."),
    }

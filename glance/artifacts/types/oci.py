"""The types behind the OCI distribution face (glance/api/v2/artifacts/
oci.py, glance/artifacts/oci.py): a repository, the manifests pushed to
it, the blobs (layers and configs) of a project, and the uploads of blobs
in progress. They are shown by /v2/artifacts like any type, and written
only through the OCI API, which derives every field from the content it
received (digests, media types, references); /v2/artifacts answers 405
to a write of them, except for repositories, which are shared (their
visibility and members) as any artifact.

One artifact per content: a manifest is named after its repository,
with its digest in the version's build metadata (``0.0.0+sha256.HEX``),
so that one repository holds each manifest once; a blob is named after
its digest and belongs to the project that pushed it, so that a layer
shared by several manifests and repositories of a project is stored and
counted (``artifact_size_total``) once.
"""

from glance.artifacts import fields as f
from glance.artifacts.types import base

MiB = 1024 * 1024
#: Tags of a repository (each is one entry of its ``tagged`` field).
MAX_TAGS = 4096
#: Blobs (config and layers) of one image manifest, and manifests of one
#: index.
MAX_PARTS = 1024
#: Chunks of one upload session.
MAX_CHUNKS = 10000
#: A manifest's bytes, as the distribution specification lets a
#: registry limit them (4 MiB, the limit of the reference registry).
MANIFEST_MAX = 4 * MiB


class OciRepository(base.ArtifactType):
    name = 'oci_repositories'
    display_name = 'OCI repository'
    # Written here too: its visibility and members (and description,
    # tags, metadata) are those of everything pushed to it, shared as
    # any artifact's; its tags name manifests by digest, which a pull
    # checks against the manifests of the repository's own project.
    description = ('A repository of the OCI distribution API: its name is '
                   'the repository name, its visibility and members are '
                   'those of everything pushed to it, and it maps each tag '
                   'to the digest of a manifest.')
    fields = {
        'tagged': f.Dict(f.String(min_length=1, max_length=200),
                         max_count=MAX_TAGS, mutable=True,
                         description='Tag -> digest of the manifest it '
                                     'names.'),
    }


class OciManifest(base.ArtifactType):
    name = 'oci_manifests'
    display_name = 'OCI manifest'
    written_elsewhere = 'the OCI distribution API'
    description = ('A manifest (image manifest or index) pushed to an OCI '
                   'repository; its name is the repository name, its '
                   'version carries its digest.')
    fields = {
        'digest': f.String(max_length=200, filterable=True, sortable=True,
                           description='The digest of the manifest, '
                                       'ALGORITHM:HEX.'),
        'media_type': f.String(max_length=255, filterable=True,
                               description='Its media type.'),
        'artifact_type': f.String(max_length=255, filterable=True,
                                  description='The artifactType of the '
                                              'manifest (or the media type '
                                              'of its config).'),
        'subject': f.String(max_length=200, filterable=True,
                            description='The digest of the manifest this '
                                        'one refers to (signatures, '
                                        'SBOMs), if any.'),
        'blobs': f.ReferenceList(allowed_types=['oci_blobs'],
                                 max_count=MAX_PARTS, filterable=True,
                                 description='The config and layers it '
                                             'names.'),
        'manifests': f.ReferenceList(allowed_types=['oci_manifests'],
                                     max_count=MAX_PARTS, filterable=True,
                                     description='The manifests an index '
                                                 'names.'),
        'manifest': f.Blob(max_size=MANIFEST_MAX, required_on_activate=True,
                           description='The manifest, byte for byte.'),
    }


class OciBlob(base.ArtifactType):
    name = 'oci_blobs'
    display_name = 'OCI blob'
    written_elsewhere = 'the OCI distribution API'
    description = ('A blob (a layer or a config) of OCI content; its name '
                   'is its digest, one per project.')
    fields = {
        'data': f.Blob(max_size=2 ** 40, required_on_activate=True,
                       description='The content, whose digest is the '
                                   "artifact's name."),
    }


class OciUpload(base.ArtifactType):
    name = 'oci_uploads'
    display_name = 'OCI upload session'
    written_elsewhere = 'the OCI distribution API'
    description = ('A blob upload of the OCI distribution API in progress: '
                   'the chunks received so far, in order; it is gone once '
                   'the upload is complete or cancelled.')
    fields = {
        'chunks': f.BlobDict(max_size=2 ** 40, max_count=MAX_CHUNKS,
                             description='Chunk number (six digits) -> '
                                         'its data.'),
    }

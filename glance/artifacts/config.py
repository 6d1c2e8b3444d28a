"""All ``[artifacts]`` options, in one place.

glance-api reads them from glance-api.conf; ``oslo-config-generator
--namespace glance.artifacts`` writes a sample.
"""

from keystoneauth1 import loading as ks_loading
from oslo_config import cfg

CONF = cfg.CONF

GROUP = 'artifacts'
DEFAULT_TYPES = ['heat_templates', 'heat_environments', 'murano_packages',
                 'tosca_templates', 'images']

artifacts_opts = [
    cfg.ListOpt('enabled_types',
                default=DEFAULT_TYPES,
                help='Artifact types served at /v2/artifacts/{type}. Each '
                     'name is an entry point of the '
                     '"glance.artifacts.types" group. A name that does not '
                     'load, or a type that is declared wrongly, stops '
                     'glance-api at start-up with a message naming it.'),
    cfg.IntOpt('limit_param_default', default=25, min=1,
               help='Number of artifacts a list returns when the request '
                    'gives no "limit". Must not exceed api_limit_max.'),
    cfg.IntOpt('api_limit_max', default=1000, min=1,
               help='Largest "limit" a list request may ask for; larger '
                    'values are cut down to this one.'),
    cfg.StrOpt('default_backend',
               help='Store backend (a name from enabled_backends) that '
                    'blob data goes to; by default, the default backend '
                    'of [glance_store], as for images.'),
    cfg.DictOpt('type_backends', default={},
                help='Backend for the blobs of particular types, as '
                     'type:backend pairs, e.g. '
                     'murano_packages:fast,tosca_templates:cheap. Overrides '
                     'default_backend.'),
    cfg.ListOpt('read_order', default=[],
                help='The order in which a download reads the stores '
                     'that hold copies of a blob\'s data: the backends '
                     'named here first, in this order, then the others in '
                     'the order the copies were made (the store the data '
                     'was uploaded to first). A store that fails, before '
                     'or during a download, is followed by the next.'),
    cfg.IntOpt('upload_heartbeat_interval', default=10, min=1,
               help='Seconds between the marks an upload in progress '
                    'leaves in the database to show it is alive.'),
    cfg.IntOpt('upload_stale_after', default=300, min=2,
               help='Seconds without a mark after which an upload is '
                    'taken for dead (its process was killed): its partial '
                    'data is deleted and the blob can be uploaded again. '
                    'An upload from a process of this host that no longer '
                    'runs is taken for dead at once.'),
    cfg.IntOpt('upload_idle_timeout', default=60, min=1,
               help='Seconds an upload may wait for the next data from '
                    'the client. A client that sends nothing for that long '
                    'gets 408 and its upload is abandoned: its partial '
                    'data is deleted and the blob keeps its previous '
                    'state. Under gunicorn this is the timeout of the '
                    'connection while the body is read; under uWSGI, of '
                    'each chunk of a chunked body, while a body with a '
                    'Content-Length waits for uWSGI\'s socket-timeout '
                    '(set it to the same value); other WSGI servers apply '
                    'their own.'),
    cfg.BoolOpt('delayed_delete', default=False,
                help='Keep the data of deleted artifacts and replaced '
                     'blobs for scrub_time seconds before deleting it, as '
                     'Glance\'s delayed_delete does for images. The '
                     'garbage collector (gc_interval, or '
                     '"glance-artifacts-manage store gc") deletes it '
                     'then.'),
    cfg.IntOpt('scrub_time', default=0, min=0,
               help='Seconds the data of a deleted artifact or replaced '
                    'blob is kept, with delayed_delete.'),
    cfg.IntOpt('gc_interval', default=0, min=0,
               help='Seconds between garbage collections in each '
                    'glance-api process: dead uploads are cleaned up, due '
                    'delayed deletes carried out, and data in the file and '
                    'S3 backends that no blob and no upload uses, older '
                    'than gc_grace, deleted. 0 turns it off; '
                    '"glance-artifacts-manage store gc" does the same on '
                    'demand.'),
    cfg.IntOpt('gc_grace', default=3600, min=0,
               help='Seconds for which data that nothing uses is left '
                    'alone by the garbage collector run by gc_interval; '
                    'the manage command takes --older-than.'),
    cfg.FloatOpt('gc_max_delete_fraction', default=0.1, min=0.0, max=1.0,
                 help='A safety belt of the garbage collector: a pass that '
                      'finds more unused data in a backend than this '
                      'fraction of the artifact data it listed there '
                      'deletes none of it and says so (in its report and '
                      'the log), as a sign that what it read of the data '
                      'in use may not be the truth. Check with '
                      '"glance-artifacts-manage store gc --dry-run", which '
                      'lists what would go, then run it with --force. 1.0 '
                      'turns the check off.'),
    cfg.BoolOpt('inspect_content', default=True,
                help='Inspect the content of blobs whose type declares an '
                     'inspector (the built-in types all do): a Heat '
                     'template must be a HOT of a version Heat knows, a '
                     'Murano package a zip with a manifest that agrees '
                     'with the artifact, a TOSCA template a service '
                     'template or CSAR, and so on. Broken or hostile '
                     'content is refused with 400 and nothing is kept; '
                     'the fields the content gives (such as a template\'s '
                     'parameters or a package\'s classes) are filled with '
                     'the upload, or with the activation for blobs larger '
                     'than their type inspects at upload. Turned off, '
                     'any bytes are accepted and those fields stay as '
                     'they are; data uploaded meanwhile is not inspected '
                     'later.'),
    cfg.BoolOpt('use_keystone_limits', default=False,
                help='Enforce quotas of artifacts with Keystone unified '
                     'limits, read through oslo.limit with Glance\'s '
                     '[oslo_limit] options (as [DEFAULT] '
                     'use_keystone_limits does for images): registered '
                     'limits of the image service, or project limits, '
                     'named artifact_count_total (artifacts of a project), '
                     'artifact_size_total (MiB of blob data of a project, '
                     'uploads in progress included) and '
                     'artifact_count_uploading (uploads in progress). A '
                     'request over a limit gets 413. Register the three '
                     'limits before turning this on: a limit that is not '
                     'registered counts as 0.'),
    cfg.StrOpt('data_api', default='sqlalchemy',
               choices=[('sqlalchemy',
                         'Records are read and written directly in the '
                         'database of [database] connection.'),
                        ('registry',
                         'Records are kept by the artifacts registry '
                         'service at registry_url, which alone holds the '
                         'artifacts database credentials.')],
               help='Implementation of the artifacts data API.'),
    cfg.URIOpt('registry_url', default='http://127.0.0.1:9494',
               schemes=['http', 'https'],
               help='Where the artifacts registry service answers, with '
                    'data_api = registry.'),
    cfg.FloatOpt('registry_timeout', default=30.0, min=0.1,
                 help='Seconds to wait for the registry before the request '
                      'fails with 503.'),
    cfg.IntOpt('registry_retries', default=2, min=0,
               help='Further tries of a read the registry did not answer; '
                    'writes are never retried.'),
    cfg.StrOpt('oci_keystone_url',
               help='The Keystone (identity API v3) that the token '
                    'endpoint of the OCI distribution API (flavor '
                    'keystone+oci, /token) authenticates HTTP Basic '
                    'credentials against. By default the '
                    'www_authenticate_uri of [keystone_authtoken].'),
    cfg.FloatOpt('oci_keystone_timeout', default=30.0, min=0.1,
                 help='Seconds the token endpoint of the OCI distribution '
                      'API waits for Keystone before it answers 503.'),
]


# How glance-api authenticates to the registry (data_api = registry):
# keystoneauth options, as [keystone_authtoken] or a service's [nova]
# section; no auth_type means no token (the registry's no-auth flavor).
REGISTRY_AUTH_GROUP = 'artifacts_registry_auth'


def register_opts(conf=CONF):
    conf.register_opts(artifacts_opts, group=GROUP)
    ks_loading.register_auth_conf_options(conf, REGISTRY_AUTH_GROUP)
    ks_loading.register_session_conf_options(conf, REGISTRY_AUTH_GROUP)


register_opts()


def list_opts():
    """Options for oslo-config-generator (entry point oslo.config.opts)."""
    return [(GROUP, artifacts_opts),
            (REGISTRY_AUTH_GROUP,
             ks_loading.get_session_conf_options() +
             ks_loading.get_auth_common_conf_options())]

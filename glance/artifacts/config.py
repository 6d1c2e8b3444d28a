"""All ``[artifacts]`` options, in one place.

glance-api reads them from glance-api.conf; ``oslo-config-generator
--namespace glance.artifacts`` writes a sample.
"""

from oslo_config import cfg

CONF = cfg.CONF

GROUP = 'artifacts'

artifacts_opts = [
    cfg.ListOpt('enabled_types',
                default=['heat_templates', 'heat_environments',
                         'murano_packages', 'tosca_templates'],
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
    cfg.StrOpt('data_api', default='sqlalchemy',
               choices=[('sqlalchemy',
                         'Records are read and written directly in the '
                         'database of [database] connection.')],
               help='Implementation of the artifacts data API.'),
]


def register_opts(conf=CONF):
    conf.register_opts(artifacts_opts, group=GROUP)


register_opts()


def list_opts():
    """Options for oslo-config-generator (entry point oslo.config.opts)."""
    return [(GROUP, artifacts_opts)]

"""Image service options (group glance)."""
from oslo_config import cfg

glance_group = cfg.OptGroup('glance', title='Image service')

glance_opts = [
    cfg.URIOpt('endpoint', default='http://127.0.0.1:9292',
               help='Glance API endpoint. Used as is when auth_type is '
                    '"none" (the local backend); otherwise the endpoint is '
                    'taken from the service catalog when unset.'),
    cfg.StrOpt('auth_type', default='none',
               choices=['none', 'keystone'],
               help='"none": talk to Glance without a token (the Glance '
                    'that the local backend runs itself); "keystone": use '
                    'the service credentials.'),
    cfg.FloatOpt('timeout', default=30.0, min=1.0,
                 help='Timeout of one Glance request, in seconds.'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(glance_group)
    conf.register_opts(glance_opts, group=glance_group)


def list_opts() -> list:
    return [(glance_group, glance_opts)]

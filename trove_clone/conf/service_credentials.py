"""Credentials of the service user for the openstack backend
(group service_credentials)."""
from oslo_config import cfg

service_credentials_group = cfg.OptGroup(
    'service_credentials', title='Service credentials',
    help='The user trove_clone acts as towards Nova, Cinder and Glance '
         'when the openstack backend is selected.')

service_credentials_opts = [
    cfg.URIOpt('auth_url', help='Keystone identity URL (…/v3).'),
    cfg.StrOpt('username', default='trove', help='Service user name.'),
    cfg.StrOpt('password', secret=True, help='Service user password.'),
    cfg.StrOpt('project_name', default='service',
               help='Project of the service user.'),
    cfg.StrOpt('user_domain_name', default='Default',
               help='Domain of the service user.'),
    cfg.StrOpt('project_domain_name', default='Default',
               help='Domain of the service project.'),
    cfg.StrOpt('region_name', default='RegionOne',
               help='Region whose endpoints are used.'),
    cfg.StrOpt('interface', default='public',
               choices=['public', 'internal', 'admin'],
               help='Endpoint interface to use.'),
    cfg.StrOpt('nova_api_version', default='2.57',
               help='Compute API microversion.'),
    cfg.StrOpt('network_id',
               help='Neutron network for database servers; unset lets '
                    'Nova pick one (nics "auto").'),
    cfg.BoolOpt('use_config_drive', default=True,
                help="Give servers a config drive carrying the guest's "
                     'files (as well as cloud-init user data).'),
]


def register_opts(conf: cfg.ConfigOpts) -> None:
    conf.register_group(service_credentials_group)
    conf.register_opts(service_credentials_opts,
                       group=service_credentials_group)


def list_opts() -> list:
    return [(service_credentials_group, service_credentials_opts)]

"""The openstack backend: Nova, Cinder and Glance through their clients,
all on one keystoneauth1 session made from ``[service_credentials]``."""
import functools

from cinderclient import client as cinder_client
from keystoneauth1 import adapter
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session
from novaclient import client as nova_client

from trove_clone.common import exception
from trove_clone.conf import CONF


@functools.lru_cache(maxsize=1)
def session() -> ks_session.Session:
    """The service user's session (one per process)."""
    credentials = CONF.service_credentials
    if not credentials.auth_url or not credentials.password:
        raise exception.TroveError(
            'The openstack backend needs [service_credentials] auth_url and '
            'password.')
    auth = v3.Password(auth_url=credentials.auth_url,
                       username=credentials.username,
                       password=credentials.password,
                       project_name=credentials.project_name,
                       user_domain_name=credentials.user_domain_name,
                       project_domain_name=credentials.project_domain_name)
    return ks_session.Session(auth=auth)


def endpoint_options() -> dict:
    credentials = CONF.service_credentials
    return {'region_name': credentials.region_name,
            'interface': credentials.interface}


def nova():
    """A python-novaclient on the service session."""
    return nova_client.Client(CONF.service_credentials.nova_api_version,
                              session=session(), **endpoint_options())


def cinder():
    """A python-cinderclient (v3) on the service session."""
    return cinder_client.Client('3', session=session(), **endpoint_options())


def network() -> adapter.Adapter:
    """Neutron's REST API on the service session (no python-neutronclient
    or openstacksdk: keystoneauth's adapter is all its few calls need)."""
    return adapter.Adapter(session(), service_type='network',
                           **endpoint_options())

"""What an instance's ``access`` request may hold (create and update
alike)."""
import ipaddress

from trove_clone.common import exception


def check_access(access: dict) -> dict:
    """An ``access`` request as the instance keeps it: ``is_public``
    (False when not given: Trove's "not providing means private") and
    ``allowed_cidrs`` as networks ([] when not given: any address).

    :raises BadRequest: naming the field that is not a boolean or a list
        of IPv4/IPv6 CIDRs
    """
    is_public = access.get('is_public', False)
    if not isinstance(is_public, bool):
        raise exception.BadRequest('access.is_public must be true or '
                                   'false, not %r.' % (is_public,))
    cidrs = access.get('allowed_cidrs') or []
    if not isinstance(cidrs, list):
        raise exception.BadRequest('access.allowed_cidrs must be a list of '
                                   'CIDRs.')
    networks = []
    for index, cidr in enumerate(cidrs):
        try:
            if not isinstance(cidr, str):
                raise ValueError(cidr)
            network = str(ipaddress.ip_network(cidr.strip(), strict=False))
        except ValueError:
            raise exception.BadRequest(
                'access.allowed_cidrs[%d]: %r is not an IPv4 or IPv6 CIDR '
                '(such as 10.0.0.0/24 or 2001:db8::/32).' % (index, cidr))
        if network not in networks:
            networks.append(network)
    return {'is_public': is_public, 'allowed_cidrs': networks}

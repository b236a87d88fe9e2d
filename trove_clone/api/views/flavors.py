"""Views of flavors."""
from trove_clone.api.controllers import base


def flavor(flavor: dict) -> dict:
    flavor_id = flavor['id']
    data = {
        'id': int(flavor_id) if str(flavor_id).isdigit() else None,
        'str_id': str(flavor_id),
        'name': flavor['name'],
        'ram': flavor['ram'],
        'vcpus': flavor['vcpus'],
        'disk': flavor['disk'],
        'ephemeral': flavor.get('ephemeral', 0),
        'links': base.links('flavors', flavor_id),
    }
    return data

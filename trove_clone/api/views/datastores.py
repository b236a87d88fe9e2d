"""Views of datastores, datastore versions and configuration parameters."""
from trove_clone.api.controllers import base
from trove_clone.services import datastores as datastore_service
from trove_clone.services.config_parameters import number


def _tags(version: dict) -> list[str]:
    return datastore_service.split_tags(version['image_tags'])


def version(version: dict, is_admin: bool,
            include_datastore: bool = True) -> dict:
    """A datastore version as the public API shows it."""
    data = {
        'id': version['id'],
        'name': version['name'],
        'version': version['version'],
        'links': base.links('datastores/versions', version['id']),
    }
    if include_datastore:
        data['datastore'] = version['datastore_id']
    if is_admin:
        data.update({
            'active': version['active'],
            'packages': version['packages'] or '',
            'image': version['image_id'] or '',
            'image_tags': _tags(version),
            'registry_ext': version['registry_ext'],
            'repl_strategy': version['repl_strategy'],
        })
    return data


def datastore(ds: dict, versions: list[dict], is_admin: bool) -> dict:
    """A datastore with the ``versions`` the caller may see.

    A member is not shown a default version that is disabled (not among
    their versions): clients look the default up in the version list.
    """
    data = {
        'id': ds['id'],
        'name': ds['name'],
        'links': base.links('datastores', ds['id']),
        'versions': [version(v, is_admin, include_datastore=False)
                     for v in versions],
    }
    default = ds['default_version_id']
    if default and (is_admin or default in {v['id'] for v in versions}):
        data['default_version'] = default
    return data


def mgmt_version(version: dict) -> dict:
    """A datastore version as the mgmt API shows it."""
    return {
        'id': version['id'],
        'name': version['name'],
        'version': version['version'],
        'datastore_id': version['datastore_id'],
        'datastore_name': version['datastore_name'],
        'datastore_manager': version['manager'],
        'image': version['image_id'] or '',
        'image_tags': _tags(version) or [''],
        'packages': (version['packages'] or '').split(',')
        if version['packages'] else [''],
        'active': version['active'],
        'registry_ext': version['registry_ext'],
        'repl_strategy': version['repl_strategy'],
        'default': version['default'],
    }


def parameter(param: dict) -> dict:
    """A configuration parameter as the public API shows it."""
    data = {
        'name': param['name'],
        'datastore_version_id': param['datastore_version_id'],
        'restart_required': bool(param['restart_required']),
        'type': param['data_type'],
    }
    if param['min_size'] is not None:
        data['min'] = number(param['min_size'])
    if param['max_size'] is not None:
        data['max'] = number(param['max_size'])
    return data


def mgmt_parameter(param: dict) -> dict:
    """A configuration parameter as the mgmt API shows it."""
    data = {
        'name': param['name'],
        'datastore_version_id': param['datastore_version_id'],
        'restart_required': bool(param['restart_required']),
        'type': param['data_type'],
    }
    if param['min_size'] is not None:
        data['min_size'] = number(param['min_size'])
    if param['max_size'] is not None:
        data['max_size'] = number(param['max_size'])
    return data

"""Request schemas of the mgmt datastore-version and parameter routes."""
from trove_clone.api.schemas import common

_IMAGE_TAGS = {
    'type': 'array', 'maxItems': 5,
    'items': {'type': 'string', 'minLength': 1, 'maxLength': 20},
}
_PACKAGES = {'type': 'array', 'items': {'type': 'string', 'maxLength': 255}}
_FREE_TEXT = {'type': ['string', 'null'], 'maxLength': 65535}

version_create = common.wrapped('version', {
    'name': common.NON_EMPTY_STRING,
    'datastore_name': common.NON_EMPTY_STRING,
    'datastore_manager': common.NON_EMPTY_STRING,
    'active': {'type': 'boolean'},
    'default': {'type': 'boolean'},
    'image': {'oneOf': [common.UUID, {'type': 'string', 'maxLength': 0},
                        {'type': 'null'}]},
    'image_tags': _IMAGE_TAGS,
    'packages': _PACKAGES,
    'registry_ext': _FREE_TEXT,
    'repl_strategy': _FREE_TEXT,
    'version': common.NON_EMPTY_STRING,
}, required=['name', 'datastore_name', 'datastore_manager', 'active'])

version_edit = {
    'type': 'object', 'additionalProperties': False, 'minProperties': 1,
    'properties': {
        'name': common.NON_EMPTY_STRING,
        'datastore_manager': common.NON_EMPTY_STRING,
        'image': {'oneOf': [common.UUID, {'type': 'string', 'maxLength': 0},
                            {'type': 'null'}]},
        'image_tags': _IMAGE_TAGS,
        'packages': _PACKAGES,
        'registry_ext': _FREE_TEXT,
        'repl_strategy': _FREE_TEXT,
        'active': {'type': 'boolean'},
        'default': {'type': 'boolean'},
    },
}

_BOUND = {'type': ['integer', 'number']}

parameter = common.wrapped('configuration-parameter', {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 128,
             'pattern': r'^[A-Za-z0-9_.\-]+' + common.END},
    'restart_required': {'oneOf': [common.BOOL01, common.BOOLEAN]},
    'data_type': {'type': 'string',
                  'enum': ['integer', 'string', 'boolean', 'float']},
    'max_size': _BOUND,
    'min_size': _BOUND,
    'max': _BOUND,
    'min': _BOUND,
}, required=['name', 'restart_required', 'data_type'])

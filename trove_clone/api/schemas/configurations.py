"""Request schemas of configuration groups."""
from trove_clone.api.schemas import common

_NAME = common.name(64)
_DESCRIPTION = {'type': ['string', 'null'], 'maxLength': 256}
_VALUES = {'type': 'object', 'maxProperties': 200,
           'additionalProperties': {
               'type': ['string', 'integer', 'number', 'boolean']}}

create = common.wrapped('configuration', {
    'name': _NAME,
    'description': _DESCRIPTION,
    'values': _VALUES,
    'datastore': {'type': 'object', 'additionalProperties': True,
                  'properties': {
                      'type': {'type': 'string', 'maxLength': 255},
                      'version': {'type': 'string', 'maxLength': 255},
                      'version_number': {'type': 'string',
                                         'maxLength': 255}}},
}, required=['name', 'values'])

update = common.wrapped('configuration', {
    'name': _NAME,
    'description': _DESCRIPTION,
    'values': _VALUES,
}, required=['values'])

edit = common.wrapped('configuration', {
    'values': _VALUES,
}, required=['values'])

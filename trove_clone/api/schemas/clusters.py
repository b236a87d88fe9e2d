"""Request schemas of clusters (Trove's fields: apischema.cluster)."""
from trove_clone.api.schemas import common
from trove_clone.api.schemas import instances as instance_schemas

_VOLUME = {'type': 'object', 'required': ['size'],
           'additionalProperties': True,
           'properties': {'size': instance_schemas._VOLUME_SIZE,
                          'type': {'type': ['string', 'null'],
                                   'maxLength': 255}}}
_MODULES = {'type': 'array', 'items': {
    'type': 'object', 'required': ['id'],
    'properties': {'id': common.UUID}}}

#: One member of a create or grow request.
MEMBER = {
    'type': 'object', 'required': ['flavorRef'],
    'additionalProperties': True,
    'properties': {
        'name': common.name(255),
        'flavorRef': instance_schemas._FLAVOR_REF,
        'volume': _VOLUME,
        'nics': instance_schemas._NICS,
        'availability_zone': {'type': ['string', 'null'],
                              'maxLength': 255},
        'modules': _MODULES,
        'related_to': {'type': ['string', 'null'], 'maxLength': 255},
        # The trove CLI sends a list (its --instance type= may repeat).
        'type': {'oneOf': [
            {'type': ['string', 'null'], 'maxLength': 64},
            {'type': 'array', 'maxItems': 4,
             'items': {'type': 'string', 'maxLength': 64}}]},
        'region_name': {'type': ['string', 'null'], 'maxLength': 255},
    },
}

create = common.wrapped('cluster', {
    'name': common.name(255),
    'datastore': {'type': 'object', 'required': ['type', 'version'],
                  'additionalProperties': True,
                  'properties': {
                      'type': common.NON_EMPTY_STRING,
                      'version': common.NON_EMPTY_STRING}},
    'instances': {'type': 'array', 'minItems': 1, 'maxItems': 64,
                  'items': MEMBER},
    'locality': {'type': 'string', 'enum': [
        'affinity', 'soft-affinity', 'anti-affinity',
        'soft-anti-affinity']},
    'configuration': {'type': ['string', 'null'], 'maxLength': 64},
    'extended_properties': {
        'type': 'object', 'additionalProperties': False,
        'properties': {
            'num_configsvr': {'type': 'integer', 'minimum': 1},
            'num_mongos': {'type': 'integer', 'minimum': 1},
            'configsvr_volume_size': {'type': 'integer', 'minimum': 1},
            'configsvr_volume_type': {'type': 'string', 'maxLength': 255},
            'mongos_volume_size': {'type': 'integer', 'minimum': 1},
            'mongos_volume_type': {'type': 'string', 'maxLength': 255},
        }},
}, required=['name', 'datastore', 'instances'])

#: ``POST /clusters/{id}``: exactly one action key.
action = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': False,
    'properties': {
        'grow': {'type': 'array', 'minItems': 1, 'maxItems': 64,
                 'items': MEMBER},
        'shrink': {'type': 'array', 'minItems': 1, 'maxItems': 64,
                   'items': {'type': 'object', 'required': ['id'],
                             'additionalProperties': False,
                             'properties': {'id': common.UUID}}},
        'upgrade': {'type': 'object', 'required': ['datastore_version'],
                    'additionalProperties': False,
                    'properties': {
                        'datastore_version': common.NON_EMPTY_STRING}},
        'reset-status': {'type': ['object', 'null'],
                         'additionalProperties': False,
                         'properties': {'force_delete': common.BOOLISH}},
        'restart': {'type': 'object'},
        'add_shard': {'type': 'object'},
        'configuration_attach': {
            'type': 'object', 'required': ['configuration_id'],
            'properties': {'configuration_id': common.UUID}},
        'configuration_detach': {'type': 'object'},
    },
}

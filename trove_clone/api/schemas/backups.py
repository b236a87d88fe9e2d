"""Request schemas of backups and backup strategies (Trove's fields)."""
from trove_clone.api.schemas import common

#: A container: one safe name (it is a directory of the local storage
#: and part of a Swift URL), no slashes, not starting with a dot.
CONTAINER = {'type': 'string', 'minLength': 1, 'maxLength': 255,
             'pattern': r'^[A-Za-z0-9_][A-Za-z0-9_.-]*' + common.END}
_DESCRIPTION = {'type': ['string', 'null'], 'maxLength': 512}
#: An instance id, or an href whose last segment is one.
_INSTANCE = {'type': 'string', 'minLength': 1, 'maxLength': 1024}

create = common.wrapped('backup', {
    'name': common.name(255),
    'instance': _INSTANCE,
    'description': _DESCRIPTION,
    'parent_id': common.UUID,
    'incremental': common.BOOLISH,
    'swift_container': CONTAINER,
    # Trove's drivers; "cinder" (a volume snapshot) answers 501.
    'storage_driver': {'type': 'string',
                       'enum': ['swift', 'local', 'cinder']},
    'restore_from': {
        'type': 'object',
        'properties': {
            'remote_location': {'type': 'string', 'minLength': 1,
                                'maxLength': 1024},
            'local_datastore_version_id': common.UUID,
            'size': {'type': 'number', 'minimum': 0},
        },
        'required': ['remote_location', 'local_datastore_version_id',
                     'size'],
    },
}, required=['name'])

strategy_create = common.wrapped('backup_strategy', {
    'swift_container': CONTAINER,
    'instance_id': common.UUID,
}, required=['swift_container'])

#: POST /backups/{id}/action (an extension): a restore drill.
action = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': False,
    'properties': {'verify': {'type': 'object', 'maxProperties': 0}},
}

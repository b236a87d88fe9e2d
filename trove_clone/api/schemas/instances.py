"""Request schemas of instances, their users, databases and root
(Trove's, from trove/common/apischema.py, rewritten)."""
from trove_clone.api.schemas import common

_NAME = common.NON_EMPTY_STRING
_DATABASE = {
    'type': 'object', 'required': ['name'], 'additionalProperties': True,
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 64},
        'character_set': {'type': 'string', 'minLength': 1,
                          'maxLength': 64},
        'collate': {'type': 'string', 'minLength': 1, 'maxLength': 64},
    },
}
_DATABASE_REF = {
    'type': 'object', 'required': ['name'], 'additionalProperties': True,
    'properties': {'name': {'type': 'string', 'minLength': 1,
                            'maxLength': 64}},
}
_PASSWORD = {'type': 'string', 'minLength': 1, 'maxLength': 128}
_HOST = {'type': 'string', 'minLength': 1, 'maxLength': 255}
_USER = {
    'type': 'object', 'required': ['name', 'password'],
    'additionalProperties': True,
    'properties': {
        'name': {'type': 'string', 'minLength': 1, 'maxLength': 80},
        'password': _PASSWORD,
        'host': _HOST,
        'databases': {'type': 'array', 'items': _DATABASE_REF},
    },
}
_VOLUME_SIZE = {'oneOf': [
    {'type': 'integer', 'minimum': 1},
    {'type': 'string', 'minLength': 1, 'maxLength': 16,
     'pattern': r'^[0-9]+' + common.END}]}
_FLAVOR_REF = {'oneOf': [
    {'type': 'string', 'minLength': 1, 'maxLength': 255},
    {'type': 'integer', 'minimum': 0}]}
_NICS = {
    'type': 'array', 'maxItems': 1,
    'items': {'type': 'object', 'additionalProperties': False,
              'properties': {
                  'net-id': {'type': 'string', 'maxLength': 64},
                  'network_id': {'type': 'string', 'maxLength': 64},
                  'subnet_id': {'type': 'string', 'maxLength': 64},
                  'ip_address': {'type': 'string', 'maxLength': 64}}},
}
_ACCESS = {
    'type': 'object', 'additionalProperties': False,
    'properties': {
        'is_public': {'type': 'boolean'},
        'allowed_cidrs': {'type': 'array', 'maxItems': 100, 'items': {
            'type': 'string', 'maxLength': 64}},
    },
}

create = common.wrapped('instance', {
    'name': _NAME,
    'flavorRef': _FLAVOR_REF,
    'volume': {'type': 'object', 'required': ['size'],
               'additionalProperties': True,
               'properties': {'size': _VOLUME_SIZE,
                              'type': {'type': ['string', 'null'],
                                       'maxLength': 255}}},
    'databases': {'type': 'array', 'items': _DATABASE},
    'users': {'type': 'array', 'items': _USER},
    'restorePoint': {'type': 'object', 'required': ['backupRef'],
                     'properties': {
                         'backupRef': common.UUID,
                         # Extension: point-in-time recovery (pitr.py).
                         'restore_time': {'type': 'string',
                                          'maxLength': 64}}},
    'availability_zone': {'type': 'string', 'maxLength': 255},
    'region_name': {'type': 'string', 'maxLength': 255},
    'locality': {'type': 'string', 'enum': [
        'affinity', 'soft-affinity', 'anti-affinity',
        'soft-anti-affinity']},
    'datastore': {'type': 'object', 'additionalProperties': True,
                  'properties': {
                      'type': {'type': 'string', 'maxLength': 255},
                      'version': {'type': 'string', 'maxLength': 255},
                      'version_number': {'type': 'string',
                                         'maxLength': 255}}},
    'nics': _NICS,
    'configuration': {'type': ['string', 'null'], 'maxLength': 64},
    'modules': {'type': 'array', 'items': {
        'type': 'object', 'required': ['id'],
        'properties': {'id': common.UUID}}},
    'access': _ACCESS,
    'replica_of': common.UUID,
    'replica_count': {'type': 'integer', 'minimum': 1, 'maximum': 3},
}, required=['name'], additional=True)

update = common.wrapped('instance', {
    'name': _NAME,
    'configuration': {'type': ['string', 'null'], 'maxLength': 64},
    'replica_of': {},
    'datastore_version': {'type': 'string', 'maxLength': 255},
    'access': _ACCESS,
})
edit = common.wrapped('instance', {
    'name': _NAME,
    'configuration': {'type': ['string', 'null'], 'maxLength': 64},
    'replica_of': {},
    'slave_of': {},
    'datastore_version': {'type': 'string', 'maxLength': 255},
    'access': _ACCESS,
    # Extension: scheduled backups (services/backup_schedules.py).
    'backup_schedule': {
        'type': ['object', 'null'], 'additionalProperties': False,
        'required': ['cron', 'keep'],
        'properties': {'cron': {'type': 'string', 'maxLength': 100},
                       'keep': {'type': 'integer', 'minimum': 1,
                                'maximum': 100}}},
})

action = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': False,
    'properties': {
        'restart': {'type': 'object'},
        'resize': {'type': 'object', 'minProperties': 1,
                   'maxProperties': 1, 'additionalProperties': False,
                   'properties': {
                       'volume': {'type': 'object', 'required': ['size'],
                                  'properties': {'size': _VOLUME_SIZE}},
                       'flavorRef': _FLAVOR_REF}},
        'reset_status': {'type': 'object', 'properties': {
            'force_delete': common.BOOLISH}},
        'promote_to_replica_source': {'type': 'object'},
        'eject_replica_source': {'type': 'object'},
    },
}

mgmt_action = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': False,
    'properties': {
        'stop': {'type': 'object'},
        'reboot': {'type': 'object'},
        'reset-task-status': {'type': 'object'},
        'migrate': {'type': 'object', 'properties': {
            'host': {'type': 'string', 'maxLength': 255}}},
        'rebuild': {'type': 'object', 'required': ['image_id'],
                    'properties': {'image_id': common.UUID}},
    },
}

databases = {
    'type': 'object', 'required': ['databases'],
    'additionalProperties': False,
    'properties': {'databases': {'type': 'array', 'minItems': 1,
                                 'items': _DATABASE}},
}
users = {
    'type': 'object', 'required': ['users'], 'additionalProperties': False,
    'properties': {'users': {'type': 'array', 'minItems': 1,
                             'items': _USER}},
}
user_update = common.wrapped('user', {
    'name': {'type': 'string', 'minLength': 1, 'maxLength': 80},
    'password': _PASSWORD,
    'host': _HOST,
}, additional=False)
user_update['properties']['user']['minProperties'] = 1
passwords = {
    'type': 'object', 'required': ['users'], 'additionalProperties': False,
    'properties': {'users': {'type': 'array', 'minItems': 1, 'items': {
        'type': 'object', 'required': ['name', 'password'],
        'properties': {'name': {'type': 'string', 'minLength': 1,
                                'maxLength': 80},
                       'password': _PASSWORD, 'host': _HOST}}}},
}
access = {
    'type': 'object', 'required': ['databases'],
    'additionalProperties': False,
    'properties': {'databases': {'type': 'array', 'minItems': 1,
                                 'items': _DATABASE_REF}},
}
root = {
    'type': ['object', 'null'],
    'properties': {'password': {'type': ['string', 'null'],
                                'maxLength': 128}},
}

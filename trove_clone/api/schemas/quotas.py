"""Request schema of the mgmt quota route."""

RESOURCES = ('instances', 'ram', 'volumes', 'backups')

quota_update = {
    'type': 'object', 'required': ['quotas'], 'additionalProperties': False,
    'properties': {
        'quotas': {
            'type': 'object', 'minProperties': 1,
            'additionalProperties': False,
            'properties': {name: {'type': 'integer', 'minimum': -1}
                           for name in RESOURCES},
        },
    },
}

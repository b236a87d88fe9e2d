"""Request schemas of modules and of the modules of an instance."""
from trove_clone.api.schemas import common

_NAME = common.name(255)
_TYPE = {'type': 'string', 'minLength': 1, 'maxLength': 255}
# The size limit is module_contents_max_size, checked with a message that
# names it.
_CONTENTS = {'type': 'string', 'minLength': 1}
_DESCRIPTION = {'type': ['string', 'null'], 'maxLength': 255}
_DATASTORE = {'type': 'object', 'additionalProperties': False,
              'properties': {
                  'type': {'type': ['string', 'null'], 'maxLength': 255},
                  'version': {'type': ['string', 'null'],
                              'maxLength': 255}}}
_APPLY_ORDER = {'type': 'integer', 'minimum': 0, 'maximum': 9}
_FULL_ACCESS = {'oneOf': [common.BOOLEAN, common.BOOL01, {'type': 'null'}]}

_FLAGS = {name: common.BOOLISH for name in (
    'auto_apply', 'all_tenants', 'visible', 'live_update',
    'priority_apply')}

create = common.wrapped('module', dict(
    _FLAGS, name=_NAME, module_type=_TYPE, contents=_CONTENTS,
    description=_DESCRIPTION, datastore=_DATASTORE,
    apply_order=_APPLY_ORDER, full_access=_FULL_ACCESS),
    required=['name', 'module_type', 'contents'])

update = common.wrapped('module', dict(
    _FLAGS, name=_NAME, module_type=_TYPE, type=_TYPE, contents=_CONTENTS,
    description=_DESCRIPTION, datastore=_DATASTORE,
    all_datastores=common.BOOLISH, all_datastore_versions=common.BOOLISH,
    apply_order=_APPLY_ORDER, full_access=_FULL_ACCESS))

reapply = common.wrapped('reapply', {
    'md5': {'type': ['string', 'null'], 'maxLength': 32},
    'include_clustered': common.BOOLISH,
    'batch_size': {'type': 'integer', 'minimum': 1},
    'batch_delay': {'type': 'integer', 'minimum': 0},
    'force': common.BOOLISH,
})

apply = {
    'type': 'object', 'required': ['modules'], 'additionalProperties': False,
    'properties': {'modules': {
        'type': 'array', 'minItems': 1, 'items': {
            'type': 'object', 'required': ['id'],
            'properties': {'id': common.UUID}}}}}

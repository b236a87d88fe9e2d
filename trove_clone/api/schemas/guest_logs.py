"""Request schema of an instance's guest logs (Trove's guest_log action:
the log's name and the actions, each 0/1 or a boolean)."""
from trove_clone.api.schemas import common

#: A log's name: an engine's log names are short words.
_LOG_NAME = {'type': 'string', 'minLength': 1, 'maxLength': 64,
             'pattern': r'^[A-Za-z0-9_-]+' + common.END}

action = {
    'type': 'object', 'required': ['name'], 'additionalProperties': False,
    'properties': {'name': _LOG_NAME, 'enable': common.BOOLISH,
                   'disable': common.BOOLISH, 'publish': common.BOOLISH,
                   'discard': common.BOOLISH},
}

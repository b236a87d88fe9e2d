"""Building blocks of the request schemas (JSON Schema draft 4).

These dicts validate request bodies and are also what the OpenAPI
reference is generated from: one source for both.
"""

NON_EMPTY_STRING = {
    'type': 'string', 'minLength': 1, 'maxLength': 255,
    'pattern': r'^.*[0-9a-zA-Z]+.*$',
}
UUID = {
    'type': 'string', 'minLength': 1, 'maxLength': 64,
    'pattern': r'^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
               r'-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}$',
}
BOOL01 = {'type': 'integer', 'minimum': 0, 'maximum': 1}
BOOLEAN = {'type': 'boolean'}
BOOLISH = {'oneOf': [BOOLEAN, BOOL01]}


def wrapped(key: str, properties: dict, required: list | None = None,
            additional: bool = False) -> dict:
    """A body ``{key: {...}}`` whose object has ``properties``."""
    inner = {'type': 'object', 'properties': properties,
             'additionalProperties': additional}
    if required:
        inner['required'] = required
    return {'type': 'object', 'required': [key],
            'additionalProperties': False,
            'properties': {key: inner}}

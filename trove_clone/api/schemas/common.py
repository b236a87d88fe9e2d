"""Building blocks of the request schemas (JSON Schema draft 4).

These dicts validate request bodies and are also what the OpenAPI
reference is generated from: one source for both.
"""

#: Ends a pattern at the real end of the string. JSON Schema patterns are
#: searched, and Python's ``$`` also matches before a final newline (so
#: ``^root$`` would take ``"root\n"``); the lookahead refuses that, and in
#: ECMA 262, where ``$`` is the end already, it changes nothing.
END = r'$(?!\n)'
#: Printable text with at least one letter or digit.
NAME_PATTERN = r'^[^\x00-\x1f\x7f]*[0-9a-zA-Z][^\x00-\x1f\x7f]*' + END


def name(max_length: int = 255) -> dict:
    """A name: 1 to ``max_length`` printable characters (the column's
    width), at least one a letter or digit."""
    return {'type': 'string', 'minLength': 1, 'maxLength': max_length,
            'pattern': NAME_PATTERN}


NON_EMPTY_STRING = name(255)
UUID = {
    'type': 'string', 'minLength': 1, 'maxLength': 64,
    'pattern': r'^([0-9a-fA-F]){8}-([0-9a-fA-F]){4}-([0-9a-fA-F]){4}'
               r'-([0-9a-fA-F]){4}-([0-9a-fA-F]){12}' + END,
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

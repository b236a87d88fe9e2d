"""The OpenAPI 3.1 document of the API, built from the route catalogue and
the request schemas (so the document and the validation share one source).
"""
import copy
import re

from trove_clone.api import routes

ERROR_CODES = (400, 401, 403, 404, 405, 406, 413, 415, 500)
_PARAM = re.compile(r'\{([a-z_]+)\}')

ERROR_SCHEMA = {
    'type': 'object', 'minProperties': 1, 'maxProperties': 1,
    'additionalProperties': {
        'type': 'object', 'required': ['code', 'message'],
        'properties': {'code': {'type': 'integer'},
                       'message': {'type': 'string'}},
    },
}

_QUERY = {
    'limit': {'type': 'integer', 'minimum': 1},
    'marker': {'type': 'string'},
    'include_clustered': {'type': 'boolean'},
    'project_id': {'type': 'string'},
    'from_guest': {'type': 'boolean'},
    'include_contents': {'type': 'boolean'},
    'count_only': {'type': 'boolean'},
    'datastore': {'type': 'string'},
    'instance_id': {'type': 'string'},
    'all_projects': {'type': 'boolean'},
}


def _draft4_to_openapi(schema: dict) -> dict:
    """JSON Schema draft 4 as OpenAPI 3.1 (2020-12) accepts it."""
    return copy.deepcopy(schema)


def _parameters(route: routes.Route) -> list[dict]:
    parameters = [{'name': name, 'in': 'path', 'required': True,
                   'schema': {'type': 'string', 'minLength': 1,
                              'pattern': '^[^/]+$'}}
                  for name in _PARAM.findall(route.full_path)]
    parameters += [{'name': name, 'in': 'query', 'required': False,
                    'schema': _QUERY[name]} for name in route.query]
    return parameters


def _success(route: routes.Route) -> dict:
    if route.response_key is None:
        return {'description': 'Accepted; no body.'}
    schema = {'type': 'object', 'required': [route.response_key]}
    return {'description': 'OK',
            'content': {'application/json': {'schema': schema}}}


def _operation(route: routes.Route) -> dict:
    operation = {
        'operationId': route.operation_id,
        'summary': route.summary,
        'tags': [route.tag],
        'parameters': _parameters(route),
        'responses': {str(route.success): _success(route)},
    }
    for code in ERROR_CODES:
        operation['responses'][str(code)] = {
            '$ref': '#/components/responses/Error'}
    if route.request_schema is not None:
        operation['requestBody'] = {
            'required': True,
            'content': {'application/json': {
                'schema': _draft4_to_openapi(route.request_schema)}}}
    if route.admin:
        operation['description'] = 'Administrators only (403 otherwise).'
    return operation


def build() -> dict:
    """The whole document."""
    paths: dict = {}
    for route in routes.ROUTES:
        paths.setdefault(route.full_path, {})[route.method.lower()] = \
            _operation(route)
    return {
        'openapi': '3.1.0',
        'info': {
            'title': 'trove_clone Database service API',
            'version': '1.0',
            'description': "OpenStack Trove's v1.0 API as trove_clone "
                           'serves it. Every error body is '
                           '{"<name>": {"code": N, "message": "..."}}.',
        },
        'servers': [{'url': 'http://127.0.0.1:8779'}],
        'paths': paths,
        'components': {
            'schemas': {'Error': ERROR_SCHEMA},
            'responses': {'Error': {
                'description': "Trove's error envelope.",
                'content': {'application/json': {
                    'schema': {'$ref': '#/components/schemas/Error'}}}}},
            'securitySchemes': {
                'token': {'type': 'apiKey', 'in': 'header',
                          'name': 'X-Auth-Token'}},
        },
        'security': [{'token': []}],
    }

"""api-ref/openapi.yaml, the route catalogue and the controllers agree."""
import importlib
import inspect
import os
import pkgutil

import yaml

from trove_clone.api import controllers
from trove_clone.api import openapi
from trove_clone.api import routes
from trove_clone.tests.unit.api import base

DOCUMENT = os.path.join(os.path.dirname(__file__), os.pardir, os.pardir,
                        os.pardir, os.pardir, 'api-ref', 'openapi.yaml')
ROUTE_NOT_FOUND = 'The resource could not be found.'


def controller_classes():
    for info in pkgutil.walk_packages(controllers.__path__,
                                      controllers.__name__ + '.'):
        module = importlib.import_module(info.name)
        for _name, cls in inspect.getmembers(module, inspect.isclass):
            if cls.__module__ == module.__name__:
                yield cls


def served_routes() -> set:
    """(method, full path) for every generic handler of every controller."""
    served = set()
    for cls in controller_classes():
        handlers = {}
        for name, member in vars(cls).items():
            pecan_info = getattr(member, '_pecan', None)
            if pecan_info and pecan_info.get('generic'):
                handlers[name] = pecan_info['generic_handlers']
        if not handlers:
            continue
        paths = getattr(cls, 'PATHS', None)
        assert paths, '%s serves routes but declares no PATHS' % cls
        for path in paths:
            for name, methods in handlers.items():
                suffix = '' if name == 'index' else '/' + name
                full = path if cls.__name__ in ('RootController',
                                                'V1Controller') \
                    else routes.TENANT + path
                for method in methods:
                    if method != 'DEFAULT':
                        served.add((method, (full + suffix)))
    return served


class OpenApiTest(base.ApiTestCase):

    def test_document_is_current(self) -> None:
        with open(DOCUMENT) as document:
            committed = yaml.safe_load(document)
        self.assertEqual(openapi.build(), committed,
                         'api-ref/openapi.yaml is stale: run '
                         'tools/gen-api-ref')

    def test_controllers_serve_exactly_the_catalogue(self) -> None:
        documented = {(route.method, route.full_path)
                      for route in routes.ROUTES}
        served = served_routes()
        self.assertEqual(set(), served - documented,
                         'served but not documented')
        self.assertEqual(set(), documented - served,
                         'documented but not served')

    def test_every_documented_route_answers(self) -> None:
        version = self.make_version(name='5.7.29')
        values = {'tenant_id': self.project, 'datastore': 'mysql',
                  'version': '5.7.29', 'version_id': version['id'],
                  'name': 'nosuch', 'flavor_id': '1',
                  'project_id': self.project,
                  'instance_id': '0c0ffee0-0000-4000-8000-000000000001',
                  'user': 'bob', 'database': 'db1',
                  'configuration_id': '0c0ffee0-0000-4000-8000-000000000002',
                  'module_id': '0c0ffee0-0000-4000-8000-000000000003',
                  'backup_id': '0c0ffee0-0000-4000-8000-000000000004',
                  'cluster_id': '0c0ffee0-0000-4000-8000-000000000005'}
        for route in routes.ROUTES:
            path = route.full_path.format(**values)
            response = getattr(self.app, route.method.lower())(
                path, headers=self.headers(admin=True), expect_errors=True)
            self.assertNotEqual(405, response.status_int, path)
            if response.status_int == 404:
                self.assertNotEqual(
                    ROUTE_NOT_FOUND,
                    response.json['itemNotFound']['message'],
                    '%s %s is not routed' % (route.method, path))

    def test_request_schemas_are_the_validators(self) -> None:
        document = openapi.build()
        for route in routes.ROUTES:
            if route.request_schema is None:
                continue
            operation = document['paths'][route.full_path][
                route.method.lower()]
            self.assertEqual(route.request_schema, operation['requestBody'][
                'content']['application/json']['schema'])

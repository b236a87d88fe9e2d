"""tools/check-layers finds upward imports, cycles and hidden imports."""
import os
import subprocess
import sys

import fixtures
import testtools

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir,
                                     os.pardir, os.pardir, os.pardir))
CHECKER = os.path.join(ROOT, 'tools', 'check-layers')


class CheckLayersTest(testtools.TestCase):

    def tree(self, files: dict) -> str:
        root = self.useFixture(fixtures.TempDir()).path
        for path, text in files.items():
            full = os.path.join(root, 'trove_clone', path)
            os.makedirs(os.path.dirname(full), exist_ok=True)
            with open(full, 'w') as source:
                source.write(text)
        return root

    def run_checker(self, root: str) -> tuple[int, str]:
        result = subprocess.run([sys.executable, CHECKER, root],
                                capture_output=True, text=True)
        return result.returncode, result.stdout

    def test_clean_tree_passes(self) -> None:
        code, output = self.run_checker(self.tree({
            'common/a.py': 'import os\n',
            'db/b.py': 'from trove_clone.common import a\n',
            'api/c.py': 'from trove_clone.db import b\n'
                        'from trove_clone.taskmanager import rpcapi\n',
            'taskmanager/rpcapi.py': 'from trove_clone.common import a\n'}))
        self.assertEqual(0, code, output)

    def test_upward_import_fails(self) -> None:
        code, output = self.run_checker(self.tree({
            'common/a.py': 'from trove_clone.api import c\n',
            'api/c.py': 'X = 1\n'}))
        self.assertEqual(1, code)
        self.assertIn('imports api (layer 3) upward', output)

    def test_cycle_fails(self) -> None:
        code, output = self.run_checker(self.tree({
            'services/a.py': 'from trove_clone.drivers import b\n',
            'drivers/b.py': 'from trove_clone.services import a\n'}))
        self.assertEqual(1, code)
        self.assertIn('import cycle between packages', output)

    def test_import_in_function_fails(self) -> None:
        code, output = self.run_checker(self.tree({
            'db/a.py': 'def f():\n    import json\n    return json\n'}))
        self.assertEqual(1, code)
        self.assertIn('import inside a function', output)

    def test_service_internals_fail(self) -> None:
        code, output = self.run_checker(self.tree({
            'api/a.py': 'from trove_clone.taskmanager import manager\n',
            'taskmanager/manager.py': 'X = 1\n'}))
        self.assertEqual(1, code)
        self.assertIn('only taskmanager.rpcapi', output)

    def test_api_importing_drivers_fails(self) -> None:
        for text in ('from trove_clone import drivers\n',
                     'from trove_clone.drivers import compute\n',
                     'import trove_clone.drivers.compute.local\n'):
            code, output = self.run_checker(self.tree({
                'api/controllers/v1/a.py': text,
                'drivers/compute/local.py': 'X = 1\n'}))
            self.assertEqual(1, code, text)
            self.assertIn('the API never imports drivers', output)
            self.assertIn('api/controllers/v1/a.py:1', output)

    def test_services_may_import_drivers(self) -> None:
        code, output = self.run_checker(self.tree({
            'services/a.py': 'from trove_clone import drivers\n',
            'drivers/__init__.py': 'X = 1\n',
            'api/b.py': 'from trove_clone.services import a\n'}))
        self.assertEqual(0, code, output)

    def test_real_tree_passes(self) -> None:
        code, output = self.run_checker(ROOT)
        self.assertEqual(0, code, output)

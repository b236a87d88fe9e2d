"""requirements.txt names every distribution the shipped code imports, so
that a plain ``pip install`` gives daemons (the guest agent among them)
that can start."""
import ast
import importlib.metadata
import os
import re
import sys

import testtools

import trove_clone

PACKAGE = os.path.dirname(trove_clone.__file__)
REQUIREMENTS = os.path.join(os.path.dirname(PACKAGE), 'requirements.txt')


def normalized(name: str) -> str:
    return re.sub(r'[-_.]+', '-', name).lower()


def required() -> set[str]:
    names = set()
    with open(REQUIREMENTS) as source:
        for line in source:
            line = line.split('#', 1)[0].strip()
            if line:
                names.add(normalized(re.split(r'[\s<>=!~;\[]', line)[0]))
    return names


def imported_modules(directory: str) -> dict[str, str]:
    """Top-level module → a file importing it, for the shipped code under
    ``directory`` (tests left out)."""
    found = {}
    for path, dirs, files in os.walk(directory):
        dirs[:] = [name for name in dirs if name != 'tests']
        for name in files:
            if not name.endswith('.py'):
                continue
            filename = os.path.join(path, name)
            with open(filename) as source:
                tree = ast.parse(source.read(), filename)
            for node in ast.walk(tree):
                if isinstance(node, ast.Import):
                    modules = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and not node.level:
                    modules = [node.module]
                else:
                    continue
                for module in modules:
                    found.setdefault(module.split('.')[0], filename)
    return found


class RequirementsTest(testtools.TestCase):

    def test_guest_agent_imports_are_runtime_requirements(self) -> None:
        self._check(os.path.join(PACKAGE, 'guestagent'))

    def test_redis_is_a_runtime_requirement(self) -> None:
        # The guest agent's Redis datastore imports redis-py.
        self.assertIn('redis', required())

    def _check(self, directory: str) -> None:
        distributions = importlib.metadata.packages_distributions()
        wanted = required()
        missing = {}
        for module, filename in imported_modules(directory).items():
            if module in sys.stdlib_module_names or module == 'trove_clone':
                continue
            names = {normalized(name)
                     for name in distributions.get(module, ())}
            if names and not names & wanted:
                missing[module] = (sorted(names),
                                   os.path.relpath(filename, PACKAGE))
        self.assertEqual({}, missing, 'imported by shipped code but not in '
                         'requirements.txt')

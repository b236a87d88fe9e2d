"""The project's own packaging prints no setuptools warning: no deprecated
license classifier, no setup_requires, and no data directory that is
importable but missing from the packages (setuptools calls that an
"ambiguous overall configuration" and will stop shipping its files)."""
import configparser
import os
import subprocess
import sys

import testtools

import trove_clone

PACKAGE = os.path.dirname(trove_clone.__file__)
ROOT = os.path.dirname(PACKAGE)
SKIPPED = {'__pycache__'}


class PackagingTest(testtools.TestCase):

    def test_setup_py_prints_no_warning(self) -> None:
        # As an operator runs it: Python's default warning filters.
        env = {key: value for key, value in os.environ.items()
               if key != 'PYTHONWARNINGS'}
        env.update(SKIP_GENERATE_AUTHORS='1', SKIP_WRITE_GIT_CHANGELOG='1')
        result = subprocess.run(
            [sys.executable, 'setup.py', '--version'], cwd=ROOT, env=env,
            capture_output=True, text=True, timeout=120)
        output = result.stdout + result.stderr
        self.assertEqual(0, result.returncode, output)
        self.assertNotIn('warn', output.lower(), output)

    def test_no_license_classifier(self) -> None:
        config = configparser.ConfigParser()
        config.read(os.path.join(ROOT, 'setup.cfg'))
        classifiers = config['metadata']['classifier']
        self.assertNotIn('License ::', classifiers)
        self.assertEqual('Apache-2.0', config['metadata']['license'])

    def test_every_directory_with_files_is_a_package(self) -> None:
        """Package data lives in packages: a directory of data files
        without ``__init__.py`` is the "absent from the packages
        configuration" warning of every build."""
        missing = []
        for directory, subdirectories, files in os.walk(PACKAGE):
            subdirectories[:] = [name for name in subdirectories
                                 if name not in SKIPPED]
            if files and '__init__.py' not in files:
                missing.append(os.path.relpath(directory, ROOT))
        self.assertEqual([], missing)

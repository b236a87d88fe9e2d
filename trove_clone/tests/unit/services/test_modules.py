"""The module key (generated once per deployment, or configured), the
encryption of module contents under it, and Trove's md5 of contents."""
import os
import stat

import fixtures

from trove_clone.common import context
from trove_clone.common import exception
from trove_clone.db import modules as db_modules
from trove_clone.services import modules
from trove_clone.tests.unit import base

# What the trove CLI sends for a file holding "message=Module.V1\n".
V1 = 'bWVzc2FnZT1Nb2R1bGUuVjEK'
MD5_V1 = '7f700cc7b99606615f8b51946f6d3228'


class ModuleKeyTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path

    def use_key_file(self, *parts: str) -> str:
        path = os.path.join(self.state, *parts)
        self.conf.config(module_key_file=path)
        return path

    def read(self, path: str) -> str:
        with open(path) as source:
            return source.read()

    def test_ensure_key_writes_a_private_random_key_once(self) -> None:
        path = self.use_key_file('deployment-a', 'module.key')
        self.assertEqual(path, modules.ensure_key())
        self.assertEqual(0o600, stat.S_IMODE(os.stat(path).st_mode))
        key_a = self.read(path).strip()
        self.assertGreaterEqual(len(key_a), 32)
        # Never overwritten: a second call leaves the key as it is.
        self.assertIsNone(modules.ensure_key())
        self.assertEqual(key_a, self.read(path).strip())
        other = self.use_key_file('deployment-b', 'module.key')
        self.assertEqual(other, modules.ensure_key())
        self.assertNotEqual(key_a, self.read(other).strip())

    def test_an_existing_key_file_is_kept(self) -> None:
        path = self.use_key_file('module.key')
        with open(path, 'w') as target:
            target.write('operator-chosen-secret\n')
        self.assertIsNone(modules.ensure_key())
        self.assertEqual('operator-chosen-secret\n', self.read(path))
        sealed = modules.encrypt(V1)
        self.assertEqual('operator-chosen-secret\n', self.read(path))
        self.conf.config(module_aes_cbc_key='operator-chosen-secret')
        self.assertEqual(V1, modules.decrypt(sealed))

    def test_encrypt_creates_the_key_when_missing(self) -> None:
        path = self.use_key_file('module.key')
        sealed = modules.encrypt(V1)
        self.assertTrue(os.path.exists(path))
        self.assertNotIn(V1, sealed)
        self.assertEqual(V1, modules.decrypt(sealed))

    def test_default_key_file_beside_the_config_file(self) -> None:
        config_file = os.path.join(self.state, 'trove.conf')
        self.conf.config(config_file=[config_file])
        self.assertEqual(os.path.join(self.state, 'module.key'),
                         modules.key_file())

    def test_a_relative_key_file(self) -> None:
        self.useFixture(fixtures.MonkeyPatch('os.getcwd',
                                             lambda: self.state))
        self.conf.config(module_key_file='module.key')
        path = os.path.join(self.state, 'module.key')
        self.assertEqual(path, modules.key_file())
        self.assertEqual(path, modules.ensure_key())
        self.assertTrue(os.path.exists(path))

    def test_a_configured_key_needs_no_file(self) -> None:
        path = self.use_key_file('module.key')
        self.conf.config(module_aes_cbc_key='configured-secret')
        self.assertIsNone(modules.ensure_key())
        sealed = modules.encrypt(V1)
        self.assertEqual(V1, modules.decrypt(sealed))
        self.assertFalse(os.path.exists(path))
        self.assertNotIn(V1, sealed)

    def test_the_wrong_key_is_named(self) -> None:
        self.use_key_file('module.key')
        self.conf.config(module_aes_cbc_key='first-secret')
        sealed = modules.encrypt(V1)
        self.conf.config(module_aes_cbc_key='second-secret')
        error = self.assertRaises(exception.TroveError, modules.decrypt,
                                  sealed)
        self.assertIn('module_aes_cbc_key', error.message)
        self.assertEqual(500, error.code)
        # Another deployment's generated key does not read it either.
        self.conf.config(module_aes_cbc_key=None)
        error = self.assertRaises(exception.TroveError, modules.decrypt,
                                  sealed)
        self.assertIn(modules.key_file(), error.message)

    def test_an_empty_key_file_is_refused(self) -> None:
        path = self.use_key_file('module.key')
        open(path, 'w').close()
        error = self.assertRaises(exception.TroveError, modules.encrypt, V1)
        self.assertIn(path, error.message)
        self.assertEqual('', self.read(path))

    def test_md5_of_contents_as_sent(self) -> None:
        self.assertEqual(MD5_V1, modules.md5_of(V1))
        self.assertEqual('d41d8cd98f00b204e9800998ecf8427e',
                         modules.md5_of(''))
        # Text is hashed as UTF-8.
        self.assertEqual('66ddcd97cfdeabb2f6fb8a999b4bc76f',
                         modules.md5_of('\u00e9'))
        self.assertNotEqual(modules.md5_of(V1), modules.md5_of(V1 + '\n'))


class KeyCheckTest(base.TestCase):
    """A host must use the deployment's key: it never makes its own once
    modules are stored, and trove-status says which key is wrong."""

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.state, 'module.key')
        self.conf.config(module_key_file=self.path)
        self.context = context.admin_context()

    def store_module(self) -> dict:
        return db_modules.create(self.context, {
            'name': 'mymod', 'type': 'ping', 'md5': MD5_V1,
            'contents': modules.encrypt(V1), 'apply_order': 5,
            'is_admin': True})

    def test_no_key_and_no_modules(self) -> None:
        ok, message = modules.key_check(self.context)
        self.assertTrue(ok)
        self.assertIn('No module key yet', message)
        self.assertFalse(os.path.exists(self.path))

    def test_the_right_key_reads_the_modules(self) -> None:
        self.store_module()
        self.assertEqual((True, 'Module key in %s reads the stored '
                          'modules.' % self.path),
                         modules.key_check(self.context))

    def test_a_missing_key_is_not_replaced_once_modules_exist(self) -> None:
        stored = self.store_module()
        os.unlink(self.path)
        error = self.assertRaises(exception.TroveError, modules.decrypt,
                                  stored['contents'])
        self.assertIn('copy it from the host', error.message)
        self.assertRaises(exception.TroveError, modules.encrypt, V1)
        self.assertFalse(os.path.exists(self.path))
        ok, message = modules.key_check(self.context)
        self.assertFalse(ok)
        self.assertIn('%s is missing but modules are stored' % self.path,
                      message)

    def test_another_key_is_named(self) -> None:
        stored = self.store_module()
        with open(self.path, 'w') as target:
            target.write('another-deployments-key\n')
        ok, message = modules.key_check(self.context)
        self.assertFalse(ok)
        self.assertIn('Module mymod (%s) cannot be read with the key in %s'
                      % (stored['id'], self.path), message)

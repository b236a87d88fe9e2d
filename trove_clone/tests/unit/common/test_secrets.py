"""The deployment's own secrets: key files generated 0600, no literal
default, keys wrapped with the old default still unwrap and are wrapped
again; private files are created with their mode."""
import os
import stat

import fixtures

from trove_clone.common import crypto
from trove_clone.common import exception
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone.conf import opts as conf_opts
from trove_clone.db import instances as db_instances
from trove_clone.services import deployment_secrets
from trove_clone.tests.unit.api import base


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class KeyFileTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path
        self.path = os.path.join(self.dir, 'keys', 'instance-rpc.key')
        self.conf.config(inst_rpc_key_file=self.path)

    def test_no_literal_default(self) -> None:
        self.assertIsNone(CONF.inst_rpc_key_encr_key)
        # No secret option of ours has a literal default.
        defaults = ['%s.%s' % (group, opt.name)
                    for group, opts in conf_opts.list_opts() for opt in opts
                    if opt.secret and opt.default]
        self.assertEqual([], defaults)

    def test_generated_once_private_and_random(self) -> None:
        # A permissive umask must not widen the file or its directory.
        previous = os.umask(0)
        self.addCleanup(os.umask, previous)
        self.assertEqual(self.path, secrets.ensure_rpc_key())
        self.assertEqual(0o600, mode(self.path))
        self.assertEqual(0o700, mode(os.path.dirname(self.path)))
        first = secrets.rpc_key_secret()
        self.assertGreaterEqual(len(first), 40)
        self.assertNotEqual(secrets.LEGACY_RPC_KEY, first)
        self.assertIsNone(secrets.ensure_rpc_key(), 'written twice')
        self.assertEqual(first, secrets.rpc_key_secret())
        other = os.path.join(self.dir, 'other.key')
        self.conf.config(inst_rpc_key_file=other)
        secrets.ensure_rpc_key()
        self.assertNotEqual(first, secrets.rpc_key_secret())

    def test_beside_the_config_file_by_default(self) -> None:
        self.conf.config(inst_rpc_key_file=None)
        conf = os.path.join(self.dir, 'trove.conf')
        open(conf, 'w').close()
        CONF(['--config-file', conf], project='trove',
             default_config_files=[])
        self.assertEqual(os.path.join(self.dir, 'instance-rpc.key'),
                         secrets.rpc_key_file())

    def test_missing_or_empty_file_is_an_error_not_a_new_key(self) -> None:
        error = self.assertRaises(exception.DeploymentSecretMissing,
                                  secrets.rpc_key_secret)
        self.assertIn(self.path, error.message)
        self.assertFalse(os.path.exists(self.path))
        secrets.create_private_file(self.path, '\n')
        self.assertRaises(exception.DeploymentSecretMissing,
                          secrets.rpc_key_secret)

    def test_explicit_key_still_works(self) -> None:
        self.conf.config(inst_rpc_key_encr_key='my-own-secret')
        self.assertIsNone(secrets.ensure_rpc_key())
        self.assertFalse(os.path.exists(self.path))
        key = crypto.generate_key()
        wrapped = secrets.wrap_instance_key(key)
        self.assertEqual(key, crypto.unwrap_key(wrapped, 'my-own-secret'))
        self.assertEqual(key, secrets.unwrap_instance_key(wrapped))


class LegacyKeyTest(base.ApiTestCase):
    """Rows wrapped with the old literal default."""

    def setUp(self) -> None:
        super().setUp()
        self.key = crypto.generate_key()
        self.version = self.make_version()
        self.old = self.make_instance(self.version, encrypted_key=(
            crypto.wrap_key(self.key, secrets.LEGACY_RPC_KEY)))
        self.new = self.make_instance(self.version, encrypted_key=(
            secrets.wrap_instance_key(self.key)))

    def stored(self, instance_id: str) -> str:
        return db_instances.get(self.context, instance_id)['encrypted_key']

    def test_unwrap_with_a_warning(self) -> None:
        log = self.useFixture(fixtures.FakeLogger())
        self.assertEqual(self.key,
                         secrets.unwrap_instance_key(self.stored(self.old)))
        self.assertIn('old default inst_rpc_key_encr_key', log.output)
        self.assertRaises(crypto.UnsealError, secrets.unwrap_instance_key,
                          crypto.wrap_key(self.key, 'another deployment'))

    def test_rewrap_loses_nothing(self) -> None:
        new_before = self.stored(self.new)
        self.assertEqual(1, deployment_secrets.legacy_key_count(
            self.context))
        self.assertEqual(1, deployment_secrets.rewrap_legacy_keys(
            self.context))
        self.assertEqual(0, deployment_secrets.legacy_key_count(
            self.context))
        rewrapped = self.stored(self.old)
        self.assertEqual(self.key, crypto.unwrap_key(
            rewrapped, secrets.rpc_key_secret()))
        self.assertRaises(crypto.UnsealError, crypto.unwrap_key, rewrapped,
                          secrets.LEGACY_RPC_KEY)
        self.assertEqual(new_before, self.stored(self.new))
        self.assertEqual(0, deployment_secrets.rewrap_legacy_keys(
            self.context))

    def test_no_new_key_beside_foreign_wrapped_keys(self) -> None:
        # A host missing the deployment's key file must not make its own.
        os.unlink(secrets.rpc_key_file())
        self.assertRaises(exception.DeploymentSecretMissing,
                          deployment_secrets.ensure_rpc_key, self.context)
        self.assertFalse(os.path.exists(secrets.rpc_key_file()))


class SecretsCheckTest(base.ApiTestCase):

    def test_generated_key_passes(self) -> None:
        ok, message = deployment_secrets.secrets_check(self.context)
        self.assertTrue(ok, message)
        self.assertIn(secrets.rpc_key_file(), message)

    def test_literal_default_fails(self) -> None:
        self.conf.config(inst_rpc_key_encr_key=secrets.LEGACY_RPC_KEY)
        ok, message = deployment_secrets.secrets_check(self.context)
        self.assertFalse(ok)
        self.assertIn('old literal default', message)

    def test_missing_key_file_fails(self) -> None:
        os.unlink(secrets.rpc_key_file())
        ok, message = deployment_secrets.secrets_check(self.context)
        self.assertFalse(ok)
        self.assertIn('missing', message)

    def test_key_file_readable_by_others_fails(self) -> None:
        os.chmod(secrets.rpc_key_file(), 0o644)
        ok, message = deployment_secrets.secrets_check(self.context)
        self.assertFalse(ok)
        self.assertIn('mode 0644', message)

    def test_keys_under_the_old_default_fail(self) -> None:
        self.make_instance(self.make_version(), encrypted_key=(
            crypto.wrap_key(crypto.generate_key(), secrets.LEGACY_RPC_KEY)))
        ok, message = deployment_secrets.secrets_check(self.context)
        self.assertFalse(ok)
        self.assertIn('1 instance RPC keys', message)


class PrivateFilesTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.dir = self.useFixture(fixtures.TempDir()).path

    def test_write_private_file_replaces_a_readable_one(self) -> None:
        path = os.path.join(self.dir, 'server.json')
        with open(path, 'w') as target:
            target.write('old')
        os.chmod(path, 0o644)
        secrets.write_private_file(path, 'new')
        self.assertEqual(0o600, mode(path))
        with open(path) as source:
            self.assertEqual('new', source.read())
        self.assertEqual(['server.json'], os.listdir(self.dir))

    def test_private_dirs_keep_their_mode_under_a_strict_umask(self) -> None:
        path = os.path.join(self.dir, 'a', 'b')
        with secrets.private_umask():
            secrets.make_private_dirs(path, 0o711)
        self.assertEqual(0o711, mode(path))
        self.assertEqual(0o711, mode(os.path.dirname(path)))

    def test_holds_secret(self) -> None:
        self.assertTrue(secrets.holds_secret('[x]\npassword = pw\n'))
        self.assertTrue(secrets.holds_secret('module_aes_cbc_key = k\n'))
        self.assertTrue(secrets.holds_secret(
            'transport_url = rabbit://u:pw@host:5672/\n'))
        self.assertFalse(secrets.holds_secret(
            'transport_url = rabbit://host:5672/\n'))
        self.assertFalse(secrets.holds_secret('password =\n'))
        self.assertFalse(secrets.holds_secret(
            'inst_rpc_key_file = /etc/trove/k\nbind_port = 1\n'))

    def test_check_lists_readable_files(self) -> None:
        conf = os.path.join(self.dir, 'trove.conf')
        with open(conf, 'w') as target:
            target.write('[keystone_authtoken]\npassword = pw\n')
        os.chmod(conf, 0o640)
        database = os.path.join(self.dir, 'trove.sqlite')
        with open(database, 'w'):
            pass
        os.chmod(database, 0o644)
        CONF(['--config-file', conf], project='trove',
             default_config_files=[])
        self.conf.config(connection='sqlite:///%s' % database,
                         group='database')
        self.assertIn(conf, deployment_secrets.private_files())
        ok, message = deployment_secrets.private_files_check()
        self.assertFalse(ok)
        self.assertIn(conf, message)
        self.assertIn(database, message)
        os.chmod(conf, 0o600)
        os.chmod(database, 0o600)
        ok, message = deployment_secrets.private_files_check()
        self.assertTrue(ok, message)

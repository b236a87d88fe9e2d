"""trove-status upgrade check."""
import os
import re
import subprocess
import sys

import fixtures
import sqlalchemy
import testtools

from trove_clone.db import migration
from trove_clone.db import models


def unwrapped(table: str) -> str:
    """The text of trove-status's table without borders and whitespace
    (it wraps lines anywhere, also after hyphens)."""
    return ''.join(''.join(line.strip('| ').split())
                   for line in table.splitlines()
                   if not set(line.strip()) <= set('+-'))


def squeezed(text: str) -> str:
    return ''.join(text.split())


class StatusTest(testtools.TestCase):

    def status(self, conf_text: str) -> subprocess.CompletedProcess:
        state = self.useFixture(fixtures.TempDir()).path
        conf = os.path.join(state, 'trove.conf')
        with open(conf, 'w') as conf_file:
            conf_file.write(conf_text % {'dir': state})
        return subprocess.run(
            [sys.executable, '-m', 'trove_clone.cmd.status',
             '--config-file', conf, 'upgrade', 'check'],
            capture_output=True, text=True, timeout=120)

    def test_unmigrated_database_fails(self) -> None:
        result = self.status('[database]\nconnection = '
                             'sqlite:///%(dir)s/t.sqlite\n')
        self.assertEqual(2, result.returncode, result.stdout)
        # The table wraps its lines wherever the revision ids end.
        text = re.sub(r'\s*\|\n\|\s*', ' ', result.stdout)
        self.assertIn('run trove- manage db_sync (or db_expand',
                      text.replace('run trove-manage', 'run trove- manage'))
        self.assertIn('RPC over rabbit to 127.0.0.1:5672', result.stdout)

    def test_a_jobboard_without_a_password_fails(self) -> None:
        result = self.status('[database]\nconnection = '
                             'sqlite:///%(dir)s/t.sqlite\n[taskflow]\n'
                             'jobboard_backend = redis\n')
        self.assertEqual(2, result.returncode, result.stdout)
        self.assertIn(squeezed('jobboard_redis_password is not set'),
                      unwrapped(result.stdout))

    def test_an_unreachable_jobboard_fails(self) -> None:
        result = self.status('[database]\nconnection = '
                             'sqlite:///%(dir)s/t.sqlite\n[taskflow]\n'
                             'jobboard_backend = redis\n'
                             'jobboard_redis_port = 1\n'
                             'jobboard_redis_password = pw\n')
        self.assertEqual(2, result.returncode, result.stdout)
        self.assertIn(squeezed('The jobboard at 127.0.0.1:1 does not '
                               'answer'), unwrapped(result.stdout))

    def test_bad_transport_url_fails(self) -> None:
        result = self.status('[DEFAULT]\ntransport_url = nonsense\n'
                             '[database]\nconnection = '
                             'sqlite:///%(dir)s/t.sqlite\n')
        self.assertEqual(2, result.returncode, result.stdout)
        self.assertIn('transport_url', result.stdout)

    def test_migrated_database_succeeds(self) -> None:
        state = self.useFixture(fixtures.TempDir()).path
        conf = os.path.join(state, 'trove.conf')
        with open(conf, 'w') as conf_file:
            conf_file.write('[database]\nconnection = sqlite:///%s/t.sqlite'
                            '\n' % state)
        subprocess.run([sys.executable, '-m', 'trove_clone.cmd.manage',
                        '--config-file', conf, 'db_sync'], check=True,
                       capture_output=True, timeout=120)
        result = subprocess.run(
            [sys.executable, '-m', 'trove_clone.cmd.status',
             '--config-file', conf, 'upgrade', 'check'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(0, result.returncode, result.stdout)
        self.assertIn('Schema at %(expand)s, %(contract)s.'
                      % migration.latest_heads(), result.stdout)
        self.assertIn(squeezed('Module key in %s; no modules stored.'
                               % os.path.join(state, 'module.key')),
                      unwrapped(result.stdout))
        # Without the key file db_sync wrote, and with a module stored,
        # the check fails and says what to do.
        os.unlink(os.path.join(state, 'module.key'))
        engine = sqlalchemy.create_engine('sqlite:///%s/t.sqlite' % state)
        with engine.begin() as connection:
            connection.execute(models.Module.__table__.insert().values(
                id='m-1', name='mymod', type='ping', contents='x',
                md5='0' * 32, apply_order=5, is_admin=True,
                auto_apply=False, visible=True, live_update=False,
                priority_apply=False, deleted=False,
                created=models.utcnow(), updated=models.utcnow()))
        engine.dispose()
        result = subprocess.run(
            [sys.executable, '-m', 'trove_clone.cmd.status',
             '--config-file', conf, 'upgrade', 'check'],
            capture_output=True, text=True, timeout=120)
        self.assertEqual(2, result.returncode, result.stdout)
        self.assertIn(squeezed('copy it from the host where trove-manage '
                               'db_sync ran'), unwrapped(result.stdout))


class SecretsStatusTest(testtools.TestCase):
    """The "Deployment secrets" and "Private files" checks."""

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.conf = os.path.join(self.state, 'trove.conf')
        self.write_conf('')
        subprocess.run([sys.executable, '-m', 'trove_clone.cmd.manage',
                        '--config-file', self.conf, 'db_sync'], check=True,
                       capture_output=True, timeout=120)

    def write_conf(self, extra: str, mode: int = 0o644) -> None:
        with open(self.conf, 'w') as conf_file:
            conf_file.write('[database]\nconnection = sqlite:///%s/t.sqlite'
                            '\n%s' % (self.state, extra))
        os.chmod(self.conf, mode)

    def check(self) -> tuple[int, str]:
        result = subprocess.run(
            [sys.executable, '-m', 'trove_clone.cmd.status',
             '--config-file', self.conf, 'upgrade', 'check'],
            capture_output=True, text=True, timeout=120)
        return result.returncode, unwrapped(result.stdout)

    def test_generated_key_and_private_files_pass(self) -> None:
        key_file = os.path.join(self.state, 'instance-rpc.key')
        for path in (key_file, os.path.join(self.state, 't.sqlite'),
                     os.path.join(self.state, 'module.key')):
            self.assertEqual(0o600, os.stat(path).st_mode & 0o777, path)
        code, out = self.check()
        self.assertEqual(0, code, out)
        self.assertIn(squeezed('Instance RPC keys are wrapped with the key '
                               'in %s.' % key_file), out)
        self.assertIn(squeezed('none readable by other users'), out)

    def test_literal_default_fails(self) -> None:
        self.write_conf('[DEFAULT]\ninst_rpc_key_encr_key = '
                        'trove-clone-default-instance-key-wrapping-key\n',
                        0o600)
        code, out = self.check()
        self.assertEqual(2, code, out)
        self.assertIn(squeezed('inst_rpc_key_encr_key is the old literal '
                               'default'), out)

    def test_missing_or_readable_key_file_fails(self) -> None:
        key_file = os.path.join(self.state, 'instance-rpc.key')
        os.chmod(key_file, 0o644)
        code, out = self.check()
        self.assertEqual(2, code, out)
        self.assertIn(squeezed('%s is mode 0644' % key_file), out)
        os.unlink(key_file)
        code, out = self.check()
        self.assertEqual(2, code, out)
        self.assertIn(squeezed('The key file %s is missing' % key_file), out)

    def test_readable_config_with_a_password_fails(self) -> None:
        self.write_conf('[keystone_authtoken]\npassword = pw\n')
        code, out = self.check()
        self.assertEqual(2, code, out)
        self.assertIn(squeezed('%s is mode 0644' % self.conf), out)

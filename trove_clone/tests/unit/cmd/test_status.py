"""trove-status upgrade check."""
import os
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
        self.assertIn('run trove-manage', result.stdout)
        self.assertIn('db_sync (or db_expand', result.stdout)
        self.assertIn('RPC over rabbit to 127.0.0.1:5672', result.stdout)

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

"""trove-status upgrade check."""
import os
import subprocess
import sys

import fixtures
import testtools

from trove_clone.db import migration


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

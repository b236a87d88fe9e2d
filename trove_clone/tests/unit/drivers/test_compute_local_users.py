"""The engine OS user the local compute backend makes for each server."""
import subprocess
from unittest import mock

import testtools

from trove_clone.common import exception
from trove_clone.drivers.compute import local

SERVER_ID = '0b3c1f6e-91a2-4c55-8d7e-2f4a6b8c9d01'


def completed(returncode: int = 0, stderr: str = ''):
    return subprocess.CompletedProcess([], returncode, '', stderr)


class EngineUserTest(testtools.TestCase):

    def test_name(self) -> None:
        name = local.engine_user_name(SERVER_ID)
        self.assertEqual('trove-0b3c1f6e91a2', name)
        # useradd takes 32 characters at most.
        self.assertLessEqual(len(name), 32)

    @mock.patch.object(local.os, 'geteuid', return_value=0)
    @mock.patch.object(local.subprocess, 'run', return_value=completed())
    def test_create_makes_a_system_user_without_login(self, run,
                                                      _geteuid) -> None:
        self.assertEqual('trove-0b3c1f6e91a2',
                         local.create_engine_user(SERVER_ID))
        argv = run.call_args[0][0]
        self.assertEqual('useradd', argv[0])
        self.assertIn('--system', argv)
        self.assertIn('--user-group', argv)
        self.assertIn('--no-create-home', argv)
        self.assertEqual('/usr/sbin/nologin',
                         argv[argv.index('--shell') + 1])
        self.assertEqual('trove-0b3c1f6e91a2', argv[-1])

    @mock.patch.object(local.os, 'geteuid', return_value=1000)
    @mock.patch.object(local.subprocess, 'run')
    def test_not_root_makes_no_user(self, run, _geteuid) -> None:
        self.assertIsNone(local.create_engine_user(SERVER_ID))
        run.assert_not_called()

    @mock.patch.object(local.time, 'sleep')
    @mock.patch.object(local.os, 'geteuid', return_value=0)
    @mock.patch.object(local.subprocess, 'run', side_effect=[
        completed(1, 'useradd: cannot lock /etc/passwd; try again later.'),
        completed()])
    def test_create_retries_while_passwd_is_locked(self, run, _geteuid,
                                                   _sleep) -> None:
        local.create_engine_user(SERVER_ID)
        self.assertEqual(2, run.call_count)

    @mock.patch.object(local.os, 'geteuid', return_value=0)
    @mock.patch.object(local.subprocess, 'run', return_value=completed(
        9, 'useradd: user already exists'))
    def test_create_fails_on_other_errors(self, run, _geteuid) -> None:
        self.assertRaises(exception.TroveError, local.create_engine_user,
                          SERVER_ID)
        self.assertEqual(1, run.call_count)

    @mock.patch.object(local.subprocess, 'run', return_value=completed())
    def test_remove_only_removes_engine_users(self, run) -> None:
        local.remove_engine_user(None)
        local.remove_engine_user('root')
        local.remove_engine_user('postgres')
        run.assert_not_called()
        local.remove_engine_user('trove-0b3c1f6e91a2')
        self.assertEqual(['userdel', 'trove-0b3c1f6e91a2'],
                         run.call_args[0][0])

    @mock.patch.object(local.time, 'sleep')
    @mock.patch.object(local.subprocess, 'run', return_value=completed(
        8, 'userdel: user trove-x is currently used by process 12'))
    def test_remove_failure_is_logged_not_raised(self, run, _sleep) -> None:
        local.remove_engine_user('trove-0b3c1f6e91a2')
        self.assertGreater(run.call_count, 1)

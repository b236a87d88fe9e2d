"""tools/trovestack's credentials: random passwords generated once into
STATE/credentials (0600), reused on a rerun, written into a 0600
trove.conf; no fixed password anywhere."""
import importlib.util
import os
import stat

import fixtures
import testtools

ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), os.pardir,
                                     os.pardir, os.pardir, os.pardir))


def load_trovestack(state: str):
    spec = importlib.util.spec_from_file_location(
        'trovestack_under_test', os.path.join(ROOT, 'tools',
                                              'trovestack.py'))
    module = importlib.util.module_from_spec(spec)
    os.environ['TROVE_CLONE_STATE'] = state
    try:
        spec.loader.exec_module(module)
    finally:
        del os.environ['TROVE_CLONE_STATE']
    return module


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class CredentialsTest(testtools.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.useFixture(fixtures.MonkeyPatch('sys.stdout', open(os.devnull,
                                                                'w')))
        self.trovestack = load_trovestack(self.state)

    def test_random_private_and_reused(self) -> None:
        passwords = self.trovestack.credentials()
        path = os.path.join(self.state, 'credentials')
        self.assertEqual(0o600, mode(path))
        self.assertEqual({'admin', 'trove', 'demo'}, set(passwords))
        self.assertEqual(3, len(set(passwords.values())))
        for password in passwords.values():
            self.assertGreaterEqual(len(password), 20)
            self.assertNotIn(password, ('secret', 'demo-password'))
        self.assertEqual(passwords, self.trovestack.credentials())
        self.assertEqual(passwords,
                         load_trovestack(self.state).credentials())
        self.assertNotEqual(passwords, load_trovestack(self.useFixture(
            fixtures.TempDir()).path).credentials())

    def test_conf_is_private_and_uses_the_service_user(self) -> None:
        self.trovestack.local_state_dir = lambda: os.path.join(
            self.state, 'local')
        path, changed = self.trovestack.write_conf('redis')
        self.assertTrue(changed)
        self.assertEqual(0o600, mode(path))
        with open(path) as conf:
            text = conf.read()
        self.assertIn('username = trove\n', text)
        self.assertIn('password = %s\n'
                      % self.trovestack.credentials()['trove'], text)
        self.assertNotIn('secret', text)
        # Unchanged on a rerun, so that kick-start restarts nothing.
        self.assertFalse(self.trovestack.write_conf('redis')[1])

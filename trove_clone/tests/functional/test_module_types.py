"""Module types that run SQL are an administrator's: through the real
trove-api, Keystone and python-troveclient's ``trove`` CLI, a member is
refused (403, the rule named) creating, updating and reapplying a ``sql``
module, and an administrator is not."""
import os

import fixtures

from trove_clone.tests.functional import base
from trove_clone.tests.functional import test_modules

RULE = ("Module type 'sql' may only be %s by an administrator "
        '(admin_only_module_types). (HTTP 403)')


class AdminOnlyModuleTypesTest(base.DeploymentTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path
        with open(os.path.join(self.work, 'grant.sql'), 'w') as target:
            target.write("COPY (SELECT 1) TO PROGRAM 'id';\n")

    def trove(self, user: dict, *argv: str, fails: bool = False) -> str:
        return base.run_cli(self, self.cli_env(user), ('trove',) + argv,
                            expect_failure=fails, cwd=self.work)

    def names(self, user: dict) -> list[str]:
        return sorted(row['Name'] for row in test_modules.table(
            self.trove(user, 'module-list')))

    def test_member_refused_admin_allowed(self) -> None:
        self.assertIn(RULE % 'created', self.trove(
            self.alice, 'module-create', 'by-alice', 'sql', 'grant.sql',
            fails=True))
        self.assertIn(RULE % 'created', self.trove(
            self.alice, 'module-create', 'by-alice', 'SQL', 'grant.sql',
            fails=True))
        self.assertEqual([], self.names(self.admin))
        # ping stays open to members.
        self.trove(self.alice, 'module-create', 'alice-ping', 'ping',
                   'grant.sql')
        # An administrator's sql module, for every tenant.
        created = test_modules.properties(self.trove(
            self.admin, 'module-create', 'shared-sql', 'sql', 'grant.sql',
            '--all_tenants'))
        self.assertEqual('sql', created['type'])
        self.assertEqual(['alice-ping', 'shared-sql'], self.names(self.alice))
        self.assertIn(RULE % 'updated', self.trove(
            self.alice, 'module-update', 'shared-sql', '--description',
            'mine now', fails=True))
        self.assertIn(RULE % 'updated', self.trove(
            self.alice, 'module-update', 'alice-ping', '--type', 'sql',
            fails=True))
        self.assertIn(RULE % 'reapplied', self.trove(
            self.alice, 'module-reapply', 'shared-sql', fails=True))
        shown = test_modules.properties(self.trove(
            self.alice, 'module-show', 'shared-sql'))
        self.assertEqual(('sql', created['md5']), (shown['type'],
                                                   shown['md5']))
        self.assertNotEqual('mine now', shown.get('description'))
        self.assertEqual('ping', test_modules.properties(self.trove(
            self.alice, 'module-show', 'alice-ping'))['type'])
        # The administrator may.
        updated = test_modules.properties(self.trove(
            self.admin, 'module-update', 'shared-sql', '--description',
            'by the admin'))
        self.assertEqual('by the admin', updated['description'])
        self.trove(self.admin, 'module-reapply', 'shared-sql')

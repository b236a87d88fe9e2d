"""Policy defaults with Trove's rule names."""
import fixtures

from trove_clone.common import context
from trove_clone.common import exception
from trove_clone.common import policies
from trove_clone.common import policy
from trove_clone.tests.unit import base


def ctx(project: str, roles: list) -> context.TroveContext:
    return context.TroveContext(user_id='u', project_id=project, roles=roles)


class PolicyTest(base.TestCase):

    def test_trove_rule_names_are_registered(self) -> None:
        names = {rule.name for rule in policies.list_rules()}
        for name in ('instance:create', 'instance:reset_status',
                     'instance:extension:user_access:update',
                     'datastore:index', 'datastore:delete',
                     'configuration-parameter:show_by_version',
                     'module:reapply', 'backup:index:all_projects',
                     'cluster:reset-status', 'limits:index'):
            self.assertIn(name, names)
        self.assertGreaterEqual(len(names), 88)

    def test_owner_rules(self) -> None:
        member = ctx('p1', ['member'])
        policy.authorize(member, 'instance:show', {'tenant': 'p1'})
        error = self.assertRaises(exception.PolicyNotAuthorized,
                                  policy.authorize, member, 'instance:show',
                                  {'tenant': 'p2'})
        self.assertEqual(403, error.code)
        self.assertIn('instance:show', error.message)
        policy.authorize(ctx('p1', ['admin']), 'instance:show',
                         {'tenant': 'p2'})

    def test_admin_and_open_rules(self) -> None:
        member = ctx('p1', ['member'])
        self.assertRaises(exception.PolicyNotAuthorized, policy.authorize,
                          member, 'instance:reset_status')
        policy.authorize(member, 'datastore:index', {'tenant': 'other'})
        self.assertFalse(policy.is_admin(member))
        self.assertTrue(policy.is_admin(ctx('p1', ['admin'])))

    def test_policy_file_overrides_defaults(self) -> None:
        path = self.useFixture(fixtures.TempDir()).join(
            'policy.yaml')
        with open(path, 'w') as policy_file:
            policy_file.write('"datastore:index": "role:admin"\n')
        self.conf.config(policy_file=path, group='oslo_policy')
        policy.reset()
        self.assertRaises(exception.PolicyNotAuthorized, policy.authorize,
                          ctx('p1', ['member']), 'datastore:index')

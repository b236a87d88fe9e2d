"""Policy defaults with Trove's rule names."""
import threading

import fixtures
from oslo_policy import policy as oslo_policy

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

    def test_decisions_shared_per_role_set_only_for_role_rules(self) -> None:
        """A decision on a rule made of role and project checks is kept
        per (roles, project match) and serves other users; a rule that
        looks at the user is decided for each user."""
        path = self.useFixture(fixtures.TempDir()).join('policy.yaml')
        with open(path, 'w') as policy_file:
            policy_file.write('"instance:show": "user_id:%(user)s"\n')
        self.conf.config(policy_file=path, group='oslo_policy')
        policy.reset()
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        self.assertTrue(enforcer._depends_on_roles_only('instance:delete'))
        self.assertTrue(enforcer._depends_on_roles_only('context_is_admin'))
        self.assertFalse(enforcer._depends_on_roles_only('instance:show'))
        alice = context.TroveContext(user_id='alice', project_id='p1',
                                     roles=['Member'])
        bob = context.TroveContext(user_id='bob', project_id='p1',
                                   roles=['member'])
        policy.authorize(alice, 'instance:show', {'tenant': 'p1',
                                                  'user': 'alice'})
        self.assertRaises(exception.PolicyNotAuthorized, policy.authorize,
                          bob, 'instance:show', {'tenant': 'p1',
                                                 'user': 'alice'})
        policy.authorize(alice, 'instance:delete', {'tenant': 'p1'})
        shared = [key for key in enforcer._decisions
                  if key[:2] == ('roles', 'instance:delete')]
        self.assertEqual(1, len(shared))
        # Another user with the same roles (any case) in the same
        # project uses that decision; another project does not.
        policy.authorize(bob, 'instance:delete', {'tenant': 'p1'})
        self.assertEqual(shared, [key for key in enforcer._decisions
                                  if key[:2] == ('roles', 'instance:delete')])
        self.assertRaises(exception.PolicyNotAuthorized, policy.authorize,
                          bob, 'instance:delete', {'tenant': 'p2'})
        self.assertFalse(policy.is_admin(bob))
        self.assertTrue(policy.is_admin(context.TroveContext(
            user_id='carol', project_id='p2', roles=['ADMIN'])))

    def test_no_decision_while_the_rules_are_reloaded(self) -> None:
        """oslo.policy replaces its rule set, then completes it: a check
        made in between would fall back to the default rule and refuse
        (a false 403). Decisions wait for the reload."""
        policy.reset()
        enforcer = policy.get_enforcer()
        enforcer.load_rules()
        complete = dict(enforcer.rules)
        reloading = threading.Event()
        release = threading.Event()

        def partial_reload(this, force_reload=False):
            this.rules = oslo_policy.Rules(
                {'context_is_admin': complete['context_is_admin']},
                this.default_rule)
            this._next_load = float('inf')
            reloading.set()
            release.wait(5)
            this.rules = oslo_policy.Rules(complete, this.default_rule)

        self.useFixture(fixtures.MockPatchObject(
            oslo_policy.Enforcer, 'load_rules', partial_reload))
        reloader = threading.Thread(target=enforcer.load_rules,
                                    kwargs={'force_reload': True})
        reloader.start()
        self.assertTrue(reloading.wait(5))
        decisions: list = []
        checker = threading.Thread(target=lambda: decisions.append(
            enforcer.decide('instance:show', {'tenant': 'p1'}, {
                'project_id': 'p1', 'roles': ['member'], 'user_id': 'u'})))
        checker.start()
        checker.join(0.3)
        release.set()
        reloader.join(5)
        checker.join(5)
        self.assertEqual([True], decisions)

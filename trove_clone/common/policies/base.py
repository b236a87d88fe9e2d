"""The base rules the others refer to."""
from oslo_policy import policy

RULE_ADMIN = 'rule:admin'
RULE_ADMIN_OR_OWNER = 'rule:admin_or_owner'
RULE_ANY = ''

rules = [
    policy.RuleDefault('context_is_admin', 'role:admin',
                       description='Decides who is an administrator.'),
    policy.RuleDefault('admin', 'role:admin or is_admin:True',
                       description='Administrators.'),
    policy.RuleDefault('admin_or_owner',
                       'rule:admin or project_id:%(tenant)s',
                       description='Administrators, or members of the '
                                   'project that owns the resource.'),
    policy.RuleDefault('default', RULE_ADMIN_OR_OWNER,
                       description='Rule for actions not listed.'),
]


def list_rules() -> list:
    return rules

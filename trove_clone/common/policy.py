"""Policy enforcement through oslo.policy."""
import threading
import time

from oslo_config import cfg
from oslo_policy import _checks
from oslo_policy import policy

from trove_clone.common import exception
from trove_clone.common import policies

#: Seconds between two checks of the policy files for changes.
RELOAD_INTERVAL = 5.0


#: Remembered decisions; decisions are pure functions of the rules, the
#: target and the credentials, so they are kept until the rules are reloaded.
DECISION_CACHE_SIZE = 4096


class Enforcer(policy.Enforcer):
    """oslo.policy's enforcer, looking at the policy files at most once per
    RELOAD_INTERVAL instead of at every check, and remembering decisions
    until then. Both cost more than the rest of a cached API request."""

    _next_load = 0.0

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._decisions: dict = {}
        self._decisions_lock = threading.Lock()
        #: Held while the rules are (re)loaded and while a decision is
        #: computed: oslo.policy replaces and then completes its rule set
        #: in place, and a rule checked in between falls back to the
        #: default rule (a false 403). Reentrant: enforce() loads too.
        self._rules_lock = threading.RLock()
        #: Per rule name: whether its decision depends only on what
        #: _role_key holds (see _depends_on_roles_only).
        self._shapes: dict[str, bool] = {}

    def _depends_on_roles_only(self, rule: str) -> bool:
        shape = self._shapes.get(rule)
        if shape is None:
            shape = self._shapes[rule] = _roles_only(self.rules, rule,
                                                     frozenset())
        return shape

    def load_rules(self, force_reload: bool = False) -> None:
        with self._rules_lock:
            now = time.monotonic()
            if force_reload or not self.rules or now >= self._next_load:
                super().load_rules(force_reload)
                self._next_load = now + RELOAD_INTERVAL
                with self._decisions_lock:
                    self._decisions.clear()
                    self._shapes = {}

    def decide(self, rule: str, target: dict, credentials: dict) -> bool:
        """``enforce`` without raising, with remembered decisions."""
        self.load_rules()
        if self._depends_on_roles_only(rule):
            key = _role_key(rule, target, credentials)
        else:
            key = _decision_key(rule, target, credentials)
        if key is not None:
            with self._decisions_lock:
                decision = self._decisions.get(key)
            if decision is not None:
                return decision
        with self._rules_lock:
            decision = bool(self.enforce(rule, target, credentials))
            if key is not None:
                with self._decisions_lock:
                    if len(self._decisions) >= DECISION_CACHE_SIZE:
                        self._decisions.clear()
                    self._decisions[key] = decision
        return decision


#: The project check of Trove's admin_or_owner rule, as oslo.policy
#: parses "project_id:%(tenant)s".
_PROJECT_MATCH = ('project_id', '%(tenant)s')


def _roles_only(rules, name: str, seen: frozenset) -> bool:
    """Whether rule ``name`` decides only from the caller's roles and
    whether the target's ``tenant`` is the caller's project: its checks
    are literal ``role:`` checks, ``project_id:%(tenant)s``, a literal
    ``is_admin:`` check (the context's flag), True, False,
    and other rules of that kind, under and/or/not. Any other check (on
    the user, a target field, a remote check), an unknown or recursive
    rule answers False, and decisions are then keyed on the whole target
    and credentials."""
    check = rules.get(name) if hasattr(rules, 'get') else None
    if check is None or name in seen:
        return False
    return _check_roles_only(rules, check, seen | {name})


def _check_roles_only(rules, check, seen: frozenset) -> bool:
    if isinstance(check, (_checks.TrueCheck, _checks.FalseCheck)):
        return True
    if isinstance(check, (_checks.AndCheck, _checks.OrCheck)):
        return all(_check_roles_only(rules, inner, seen)
                   for inner in check.rules)
    if isinstance(check, _checks.NotCheck):
        return _check_roles_only(rules, check.rule, seen)
    if isinstance(check, _checks.RuleCheck):
        return _roles_only(rules, check.match, seen)
    if isinstance(check, _checks.RoleCheck):
        return '%' not in check.match
    if isinstance(check, _checks.GenericCheck):
        return (check.kind, check.match) == _PROJECT_MATCH or (
            check.kind == 'is_admin' and '%' not in check.match)
    return False


def _role_key(rule: str, target: dict, credentials) -> tuple:
    """The decision key of a rule that _roles_only accepted: the roles
    (compared without case, as RoleCheck does), whether the target's
    tenant is the caller's project (as GenericCheck compares them, as
    text), the is_admin flag (as text, as GenericCheck compares it) and
    what scope enforcement looks at."""
    project = credentials.get('project_id')
    owner = target.get('tenant', _MISSING)
    owns = owner is not _MISSING and 'project_id' in credentials and \
        str(owner) == str(project)
    roles = frozenset(role.lower() for role in
                      credentials.get('roles') or ())
    return ('roles', rule, roles, owns, str(credentials.get('is_admin')),
            project is not None, credentials.get('domain_id') is not None,
            credentials.get('system_scope'))


_MISSING = object()


def _freeze(value):
    if isinstance(value, (list, tuple, set, frozenset)):
        return tuple(sorted(str(item) for item in value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError('unhashable credential')


def _decision_key(rule: str, target: dict, credentials) -> tuple | None:
    try:
        return (rule,
                tuple(sorted((k, _freeze(v)) for k, v in target.items())),
                tuple(sorted((k, _freeze(v))
                             for k, v in dict(credentials).items())))
    except TypeError:
        return None


_ENFORCER: policy.Enforcer | None = None


def get_enforcer() -> policy.Enforcer:
    """The process-wide enforcer, with the default rules registered.

    Also the ``oslo.policy.enforcer`` entry point used by the policy tools.
    """
    global _ENFORCER
    if _ENFORCER is None:
        _ENFORCER = Enforcer(cfg.CONF)
        _ENFORCER.register_defaults(policies.list_rules())
    return _ENFORCER


def reset() -> None:
    """Forget the enforcer (tests change the configuration)."""
    global _ENFORCER
    _ENFORCER = None


def authorize(context, rule: str, target: dict | None = None) -> None:
    """Raise PolicyNotAuthorized unless ``context`` may do ``rule``.

    :param target: the resource's owner as ``{'tenant': project_id}``;
        defaults to the caller's own project.
    """
    target = target if target is not None else {'tenant': context.project_id}
    credentials = context.to_policy_values()
    if not get_enforcer().decide(rule, target, credentials):
        raise exception.PolicyNotAuthorized(action=rule)


def is_admin(context) -> bool:
    """Whether the caller passes the ``context_is_admin`` rule."""
    return get_enforcer().decide('context_is_admin', {},
                                 context.to_policy_values())

"""Policy enforcement through oslo.policy."""
import threading
import time

from oslo_config import cfg
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

    def load_rules(self, force_reload: bool = False) -> None:
        now = time.monotonic()
        if force_reload or not self.rules or now >= self._next_load:
            super().load_rules(force_reload)
            self._next_load = now + RELOAD_INTERVAL
            with self._decisions_lock:
                self._decisions.clear()

    def decide(self, rule: str, target: dict, credentials: dict) -> bool:
        """``enforce`` without raising, with remembered decisions."""
        self.load_rules()
        key = _decision_key(rule, target, credentials)
        if key is not None:
            with self._decisions_lock:
                decision = self._decisions.get(key)
            if decision is not None:
                return decision
        decision = bool(self.enforce(rule, target, credentials))
        if key is not None:
            with self._decisions_lock:
                if len(self._decisions) >= DECISION_CACHE_SIZE:
                    self._decisions.clear()
                self._decisions[key] = decision
        return decision


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

"""Default policy rules, with Trove's rule names and defaults."""
import itertools

from trove_clone.common.policies import base
from trove_clone.common.policies import resources


def list_rules() -> list:
    """Every default rule, for oslo.policy's generator and enforcer."""
    return list(itertools.chain(base.list_rules(), resources.list_rules()))

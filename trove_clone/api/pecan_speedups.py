"""Fixed costs of pecan's request handling, computed once.

pecan (1.5 to 1.8) looks up the argument specification of the controller
method at every request (``pecan.core.invoke_controller`` calls
``pecan.util.getargspec``), and its ``getargspec`` builds a new
``namedtuple`` class each time, which compiles code with ``eval``: the
largest single cost of a request that reads no database. A method's
arguments never change while the process runs, so :func:`install`
replaces the function pecan's core calls with one that remembers the
answer per function. The answer is the same object pecan computed, so
routing and argument handling are unchanged.
"""
import functools
import threading

from pecan import core as pecan_core
from pecan import util as pecan_util

#: Controller functions whose specification is remembered; the API has
#: a few hundred, this bound only guards against a surprise.
MAX_FUNCTIONS = 4096

_original_getargspec = pecan_util.getargspec
_install_lock = threading.Lock()


@functools.lru_cache(maxsize=MAX_FUNCTIONS)
def _argspec_of(function):
    return _original_getargspec(function)


def cached_getargspec(method):
    """pecan's ``getargspec(method)``, remembered per underlying function.

    A bound method is a new object at every attribute access, so the
    function it wraps (``__func__``) is the key; its specification still
    lists ``self``, as pecan's own answer does for a bound method.
    """
    function = getattr(method, '__func__', method)
    try:
        return _argspec_of(function)
    except TypeError:  # unhashable callable: not a controller of ours
        return _original_getargspec(method)


def install() -> None:
    """Make pecan's request handling use :func:`cached_getargspec`
    (idempotent)."""
    with _install_lock:
        if getattr(pecan_core, 'getargspec', None) is _original_getargspec:
            pecan_core.getargspec = cached_getargspec

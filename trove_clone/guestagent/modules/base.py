"""The interface of a module driver.

A driver applies a module's decoded contents to the engine of the
instance and undoes it. It reports what happened as ``(status, message)``:
``status`` is :data:`OK`, :data:`ERROR` or a status of its own, ``message``
a sentence for the user. A driver may also raise; the module manager
records the exception as an :data:`ERROR` result.
"""
import abc

from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base

#: The module did what it says.
OK = 'OK'
#: The module failed; the message says why.
ERROR = 'ERROR'


class ModuleDriver(abc.ABC):
    """One module type (its entry-point name is the type)."""

    #: One line for operators: what modules of this type do.
    description: str = ''

    @abc.abstractmethod
    def apply(self, payload: dict, data: bytes,
              engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Apply the module to the running ``engine``.

        :param payload: the module payload the control plane sent (its
            ``contents`` still as the client sent them)
        :param data: the decoded contents
        :param engine: the lifecycle of the instance's engine, started
        :returns: ``(status, message)``
        """

    @abc.abstractmethod
    def remove(self, payload: dict, data: bytes,
               engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Undo what :meth:`apply` did, with the same arguments (``data``
        being the contents the module was last applied with).

        :returns: ``(status, message)``; :data:`ERROR` keeps the module
            applied
        """

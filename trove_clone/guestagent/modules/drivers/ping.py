"""The ``ping`` module type: proves the module path works end to end.

Its contents hold a line ``message=<text>``; applying it reports status
OK with ``<text>`` as the message. It changes nothing on the engine.
"""
from trove_clone.guestagent.capabilities import lifecycle as lifecycle_base
from trove_clone.guestagent.modules import base

PREFIX = 'message='


class PingDriver(base.ModuleDriver):

    description = ('Reports the text of its "message=<text>" line; '
                   'changes nothing.')

    def apply(self, payload: dict, data: bytes,
              engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """OK with the text of the first ``message=`` line; ERROR when
        there is none."""
        text = data.decode('utf-8', 'replace')
        for line in text.splitlines():
            line = line.strip()
            if line.startswith(PREFIX):
                return base.OK, line[len(PREFIX):].strip()
        return base.ERROR, ("The ping module's contents have no "
                            "'message=<text>' line.")

    def remove(self, payload: dict, data: bytes,
               engine: lifecycle_base.Lifecycle) -> tuple[str, str]:
        """Always OK: there is nothing to undo."""
        return base.OK, 'Module removed.'

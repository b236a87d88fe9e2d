"""Guest logs of Redis: ``server`` (SYS), the server's own log (its
standard output, the engine log). Redis always writes it: it cannot be
turned on or off, and only administrators see it."""
from trove_clone.guestagent.capabilities import logs


class RedisLogs(logs.GuestLogs):

    def specs(self) -> list[logs.LogSpec]:
        return [logs.LogSpec('server', logs.SYS, self.engine.log_path)]

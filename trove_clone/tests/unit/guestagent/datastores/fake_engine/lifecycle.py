"""The lifecycle of the fake engine: an engine that is up once started,
without a process."""
from trove_clone.guestagent.capabilities import lifecycle


class FakeLifecycle(lifecycle.Lifecycle):

    port = 7777
    running = False

    def prepare(self) -> None:
        self.start()

    def start(self) -> None:
        self.running = True

    def stop(self, timeout: float = 120.0) -> None:
        self.running = False

    def is_running(self) -> bool:
        return self.running

    def is_healthy(self) -> bool:
        return self.running

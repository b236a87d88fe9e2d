"""processes.alive: a running process is alive; a zombie, a reaped
process and no pid are not."""
import os
import subprocess
import sys
import time

import testtools

from trove_clone.common import processes


class AliveTest(testtools.TestCase):

    def test_this_process(self) -> None:
        self.assertTrue(processes.alive(os.getpid()))

    def test_no_pid(self) -> None:
        self.assertFalse(processes.alive(None))
        self.assertFalse(processes.alive(0))

    def test_zombie_then_reaped(self) -> None:
        child = subprocess.Popen([sys.executable, '-c', 'pass'])
        deadline = time.monotonic() + 10
        while processes.alive(child.pid) and time.monotonic() < deadline:
            time.sleep(0.02)
        # Exited, not yet reaped: a zombie does not count as running.
        self.assertFalse(processes.alive(child.pid))
        child.wait()
        self.assertFalse(processes.alive(child.pid))

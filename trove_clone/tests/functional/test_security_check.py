"""tools/security-check in the functional run: a deployment and one
instance per engine, probed as a tenant, another OS user and a holder of
the broker URL would (doc/security.md). Running it here puts it in CI
beside the other functional tests instead of after them."""
import os
import subprocess
import sys

import testtools

from trove_clone.tests.functional import base

SCRIPT = os.path.join(base.ROOT, 'tools', 'security-check')


class SecurityCheckTest(testtools.TestCase):

    def test_every_probe_passes(self) -> None:
        result = subprocess.run([sys.executable, SCRIPT],
                                capture_output=True, text=True,
                                timeout=1800, cwd=base.ROOT)
        lines = result.stdout.splitlines()
        failed = [line for line in lines if line.startswith('FAIL')]
        self.assertEqual([], failed, result.stdout[-4000:] +
                         result.stderr[-4000:])
        self.assertEqual(0, result.returncode, result.stderr[-4000:])
        self.assertRegex(lines[-1], r'^\d+ passed, 0 failed$')
        # Every probe ran: a setup that stopped early would pass fewer.
        self.assertGreaterEqual(int(lines[-1].split()[0]), 30, lines[-1])

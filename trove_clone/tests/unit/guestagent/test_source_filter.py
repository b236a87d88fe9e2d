"""The socket filter of the allowed CIDRs, on a real listening socket of
this process: the kernel completes handshakes from allowed sources only;
an empty list lets everyone in again; the lifecycle keeps the CIDRs for
the next start and gives the old ones back when the socket cannot be
filtered."""
import os
import shutil
import socket
import tempfile

from trove_clone.guestagent.capabilities import lifecycle
from trove_clone.guestagent import source_filter
from trove_clone.tests.unit import base

ADDRESS = '127.77.150.15'


def reaches(port: int, source: str) -> bool:
    client = socket.socket()
    client.settimeout(0.5)
    try:
        client.bind((source, 0))
        client.connect((ADDRESS, port))
        return True
    except OSError:
        return False
    finally:
        client.close()


class _Process:
    """Stands in for the engine's Popen: this process."""

    pid = os.getpid()

    @staticmethod
    def poll():
        return None


class _Engine(lifecycle.Lifecycle):

    def prepare(self) -> None:
        pass

    def start(self) -> None:
        pass

    def is_healthy(self) -> bool:
        return True


class SourceFilterTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.listener = socket.socket()
        self.addCleanup(self.listener.close)
        self.listener.bind((ADDRESS, 0))
        self.listener.listen(16)
        self.port = self.listener.getsockname()[1]

    def test_only_allowed_sources_get_in(self) -> None:
        self.assertTrue(reaches(self.port, '127.0.0.1'))
        self.assertTrue(source_filter.apply(
            os.getpid(), ADDRESS, self.port,
            ['127.77.150.192/28', '2001:db8::/32', '10.0.0.0/8']))
        self.assertFalse(reaches(self.port, '127.0.0.1'))
        self.assertTrue(reaches(self.port, '127.77.150.200'))
        self.assertFalse(reaches(self.port, '127.77.150.180'))
        # The instance's own address always (the agent's Redis client).
        self.assertTrue(reaches(self.port, ADDRESS))
        # IPv6 only: no IPv4 client.
        source_filter.apply(os.getpid(), ADDRESS, self.port, ['::/0'])
        self.assertFalse(reaches(self.port, '127.77.150.200'))
        source_filter.apply(os.getpid(), ADDRESS, self.port, [])
        self.assertTrue(reaches(self.port, '127.0.0.1'))

    def test_established_connections_from_outside_are_closed(self):
        if os.geteuid() != 0:
            self.skipTest('ss -K (SOCK_DESTROY) needs root')
        connections = {}
        for source in ('127.0.0.1', '127.77.150.200', ADDRESS):
            client = socket.socket()
            self.addCleanup(client.close)
            client.bind((source, 0))
            client.connect((ADDRESS, self.port))
            accepted, _peer = self.listener.accept()
            self.addCleanup(accepted.close)
            connections[source] = (client, accepted)
        self.assertEqual(1, source_filter.cut_others(
            ADDRESS, self.port, ['127.77.150.192/28', '::/0']))
        alive = set()
        for source, (client, accepted) in connections.items():
            accepted.settimeout(0.5)
            try:
                client.sendall(b'x')
                if accepted.recv(1) == b'x':
                    alive.add(source)
            except OSError:
                pass
        self.assertEqual({'127.77.150.200', ADDRESS}, alive)

    def test_nothing_listening_yet(self) -> None:
        self.assertFalse(source_filter.apply(os.getpid(), ADDRESS,
                                             self.port + 1, ['10.0.0.0/8']))

    def test_normalized_and_program_size(self) -> None:
        self.assertEqual(['10.0.0.0/8', '2001:db8::/32'],
                         source_filter.normalized(
                             ['10.1.2.3/8', '2001:db8::1/32', '10.0.0.0/8']))
        self.assertRaises(ValueError, source_filter.normalized, ['10.0.0'])
        # 6 fixed instructions, 4 per IPv4 network (own address first).
        self.assertEqual(6 + 4 * 2 + 1, len(source_filter.program(
            ['10.0.0.0/8', '::/0'], ADDRESS)))
        self.assertRaises(source_filter.SourceFilterError,
                          source_filter.program,
                          ['10.%d.%d.0/24' % (i // 256, i % 256)
                           for i in range(1100)],
                          ADDRESS)

    def test_lifecycle_keeps_the_cidrs_or_gives_them_back(self) -> None:
        volume = tempfile.mkdtemp()
        self.addCleanup(shutil.rmtree, volume)
        engine = _Engine('/', ADDRESS, os.path.join(volume, 'data'), {},
                         512)
        engine.port = self.port
        # Not running: kept for the next start only.
        engine.update_access(['127.77.150.192/28'])
        self.assertEqual(['127.77.150.192/28'], engine.allowed_cidrs())
        self.assertTrue(reaches(self.port, '127.0.0.1'))
        engine.process = _Process()
        engine.update_access(['127.77.150.200/32'])
        self.assertFalse(reaches(self.port, '127.0.0.1'))
        self.assertEqual(0o600, os.stat(os.path.join(
            engine.agent_dir, source_filter.STATE_FILE)).st_mode & 0o777)
        # Nothing listens on this port: refused, the old CIDRs kept.
        engine.port = self.port + 1
        self.assertRaises(lifecycle.EngineError, engine.update_access, [])
        self.assertEqual(['127.77.150.200/32'], engine.allowed_cidrs())
        engine.port = self.port
        engine.wait_until_healthy(timeout=5)
        self.assertFalse(reaches(self.port, '127.0.0.1'))
        engine.update_access([])
        self.assertTrue(reaches(self.port, '127.0.0.1'))

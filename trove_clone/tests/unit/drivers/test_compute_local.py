"""The local compute driver's records and injected files are private:
they hold the guest's configuration (its RPC key, the broker URL)."""
import os
import stat
import subprocess
import threading

import fixtures
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.drivers.compute import local
from trove_clone.tests.unit import base


def mode(path: str) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


class PrivateFilesTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.state = self.useFixture(fixtures.TempDir()).path
        self.driver = local.LocalComputeDriver(self.state)

    def test_server_record_is_private(self) -> None:
        server = {'id': uuidutils.generate_uuid(),
                  'files': {local.GUEST_CONF: 'instance_rpc_encr_key = k'}}
        os.makedirs(self.driver._dir(server['id']))
        self.driver._save(server)
        record = os.path.join(self.driver._dir(server['id']), 'server.json')
        self.assertEqual(0o600, mode(record))
        self.assertEqual(server, self.driver._load(server['id']))

    def test_injected_file_is_private_and_unlinked_from_the_image(self):
        shared = os.path.join(self.state, 'image-file')
        with open(shared, 'w') as image_file:
            image_file.write('image')
        os.chmod(shared, 0o644)
        target = os.path.join(self.state, 'trove-guestagent.conf')
        os.link(shared, target)
        local._replace_file(target, 'transport_url = rabbit://u:pw@h//')
        self.assertEqual(0o600, mode(target))
        with open(shared) as image_file:
            self.assertEqual('image', image_file.read())
        self.assertEqual(0o644, mode(shared))


class HostCapacityTest(base.TestCase):

    def test_a_flavor_larger_than_the_host_is_refused(self) -> None:
        host = local.host_ram_mb()
        self.assertGreater(host, 0)
        local.check_fits({'id': 'fits', 'ram': host})
        error = self.assertRaises(exception.NoValidHost, local.check_fits,
                                  {'id': 'huge', 'ram': host + 1})
        self.assertIn('flavor huge needs %d MB' % (host + 1), error.message)


class HalfMadeServerTest(base.TestCase):

    def test_a_build_whose_creator_died_shows_error(self) -> None:
        driver = local.LocalComputeDriver(
            self.useFixture(fixtures.TempDir()).path)
        dead = subprocess.Popen(['true'])
        dead.wait()
        server = {'id': uuidutils.generate_uuid(), 'name': 'n',
                  'image_id': 'i', 'flavor_id': '1', 'volume_id': None,
                  'files': {}, 'metadata': {}, 'status': 'BUILD',
                  'pid': None, 'creator': os.getpid(), 'created': 'now',
                  'address': '127.0.0.1'}
        os.makedirs(driver._dir(server['id']))
        driver._save(server)
        self.assertEqual('BUILD', driver.get(server['id'])['status'])
        server['creator'] = dead.pid
        driver._save(server)
        self.assertEqual('ERROR', driver.get(server['id'])['status'])


class ImageCacheTest(base.TestCase):

    def test_two_fetches_at_once_both_get_the_image(self) -> None:
        """Two taskmanagers (or threads) fetching one image: each writes
        a copy of its own and renames it; neither loses its file (they
        shared one partial name and the second rename failed)."""
        driver = local.LocalComputeDriver(
            self.useFixture(fixtures.TempDir()).path)
        both = threading.Barrier(2)

        class Images:
            def get(self, image_id):
                return {'id': image_id, 'checksum': 'c0ffee'}

            def download(self, image_id, path):
                with open(path + '.part', 'wb') as target:
                    target.write(b'image')
                    both.wait(5)
                os.replace(path + '.part', path)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.drivers.get', lambda kind: Images()))
        results, errors = [], []

        def fetch():
            try:
                results.append(driver._fetch('i'))
            except Exception as error:  # noqa: B902 - the test looks
                errors.append(error)
        threads = [threading.Thread(target=fetch) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10)
        self.assertEqual([], errors)
        self.assertEqual(1, len(set(results)))
        with open(results[0], 'rb') as image:
            self.assertEqual(b'image', image.read())
        self.assertEqual(['c0ffee.tar.gz'], sorted(
            name for name in os.listdir(os.path.dirname(results[0]))
            if name.startswith('c0ffee')))


class UnrecordedAgentTest(base.TestCase):

    def test_discard_stops_an_agent_its_creator_never_recorded(self):
        driver = local.LocalComputeDriver(
            self.useFixture(fixtures.TempDir()).path)
        server = {'id': uuidutils.generate_uuid(), 'name': 'n',
                  'volume_id': None, 'pid': None, 'cgroups': [],
                  'engine_user': None}
        root = os.path.join(driver._dir(server['id']), 'root')
        os.makedirs(root)
        agent = subprocess.Popen(['sleep', '60'], cwd=root,
                                 start_new_session=True)
        self.addCleanup(agent.kill)
        self.assertEqual([agent.pid], local.processes_in(
            driver._dir(server['id'])))
        driver._discard(server)
        self.assertIsNotNone(agent.wait(10))
        self.assertFalse(os.path.exists(driver._dir(server['id'])))

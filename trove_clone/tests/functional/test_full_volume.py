"""A full data volume (issue 14): the real MariaDB dies on ENOSPC, its
guest agent reaps it (no zombie), the instance shows a fault that names
the full volume and how to grow it, and a resize volume brings it back
ACTIVE with its data; with storage autogrow on, a volume used past the
threshold grows without the user asking. One deployment for both."""
import json
import os
import shutil
import time

import pymysql

from trove_clone.tests.functional import instances as deployment

WAIT = 240
USER = 'app'
PASSWORD = 'Full-volume-pw-1'
#: Storage autogrow's threshold in the autogrow test (percent used).
THRESHOLD = 40
ROW = 4 * 1024 * 1024


def children(pid: int) -> list[tuple[int, str, str]]:
    """(pid, state, name) of the processes whose parent is ``pid``."""
    found = []
    for entry in os.listdir('/proc'):
        if not entry.isdigit():
            continue
        try:
            with open('/proc/%s/stat' % entry) as source:
                text = source.read()
        except OSError:
            continue
        name = text[text.index('(') + 1:text.rindex(')')]
        fields = text.rsplit(')', 1)[1].split()
        if int(fields[1]) == pid:
            found.append((int(entry), fields[0], name))
    return found


class FullVolumeTest(deployment.DeploymentTestCase):

    address_pool = '127.77.151.0/28'
    datastores = ('mariadb',)

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client()
        self.admin = self.deployment.client(user='admin')

    # --- helpers ---------------------------------------------------------

    def create(self, name: str):
        instance = self.trove.instances.create(
            name, '1', volume={'size': 1}, datastore='mariadb',
            databases=[{'name': 'appdb'}],
            users=[{'name': USER, 'password': PASSWORD,
                    'databases': [{'name': 'appdb'}]}])
        self.addCleanup(self.deployment.delete_and_wait, instance.id)
        return self.wait_for(instance.id, lambda i: i.status == 'ACTIVE')

    def wait_for(self, instance_id: str, wanted, timeout: float = WAIT):
        deadline = time.monotonic() + timeout
        while True:
            instance = self.trove.instances.get(instance_id)
            if wanted(instance):
                return instance
            if instance.status == 'ERROR' or time.monotonic() > deadline:
                self.fail('Instance %s is %s after %d s, fault %s' % (
                    instance_id, instance.status, timeout,
                    getattr(instance, 'fault', None)))
            time.sleep(0.5)

    def connect(self, instance) -> pymysql.Connection:
        return pymysql.connect(host=instance.ip[0], user=USER,
                               password=PASSWORD, database='appdb',
                               autocommit=True, connect_timeout=5,
                               read_timeout=60, write_timeout=60)

    def mountpoint(self, instance_id: str) -> str:
        volume_id = self.admin.mgmt_instances.show(instance_id).volume['id']
        return os.path.join(self.deployment.state, 'local', 'volumes',
                            volume_id, 'data')

    def agent_pid(self, instance_id: str) -> int:
        server_id = self.admin.mgmt_instances.show(instance_id).server['id']
        path = os.path.join(self.deployment.state, 'local', 'servers',
                            server_id, 'server.json')
        with open(path) as record:
            return json.load(record)['pid']

    def write_rows(self, connection, count: int,
                   stop_at: tuple[str, float] | None = None) -> int:
        """Write ``count`` rows of ROW bytes, or (``stop_at``: a mount
        point and a percent) until that filesystem is used that much;
        returns how many were written."""
        with connection.cursor() as cursor:
            cursor.execute('CREATE TABLE IF NOT EXISTS kept (id INT '
                           'AUTO_INCREMENT PRIMARY KEY, body LONGBLOB)')
            for number in range(count):
                if stop_at is not None:
                    usage = shutil.disk_usage(stop_at[0])
                    if 100.0 * usage.used / usage.total >= stop_at[1]:
                        return number
                cursor.execute('INSERT INTO kept (body) VALUES (%s)',
                               (bytes([65 + number % 26]) * ROW,))
        return count

    def check_rows(self, instance, count: int) -> None:
        """The rows write_rows wrote are all there, whole."""
        connection = self.connect(instance)
        with connection.cursor() as cursor:
            cursor.execute('SELECT COUNT(*), SUM(LENGTH(body)), '
                           'SUM(LEFT(body, 1) = RIGHT(body, 1)) FROM kept')
            self.assertEqual((count, count * ROW, count),
                             tuple(int(value) for value in
                                   cursor.fetchone()))
        connection.close()

    # --- the tests ---------------------------------------------------------

    def test_full_volume_kills_mariadb_then_resize_brings_it_back(self):
        instance = self.create('full-volume')
        connection = self.connect(instance)
        self.write_rows(connection, 3)
        agent = self.agent_pid(instance.id)
        engines = [pid for pid, _state, name in children(agent)
                   if name == 'mariadbd']
        self.assertEqual(1, len(engines), children(agent))
        with connection.cursor() as cursor:
            cursor.execute('CREATE TABLE grows (id INT AUTO_INCREMENT '
                           'PRIMARY KEY, body LONGBLOB)')
            cursor.execute("INSERT INTO grows (body) VALUES ('a')")
        # Fill the volume's filesystem, then write into a table that must
        # grow: InnoDB cannot extend its tablespace and mariadbd aborts.
        # (A write whose pages are there already waits instead, in the
        # binary log, for someone to free space: doc/volumes.md.)
        mountpoint = self.mountpoint(instance.id)
        free = shutil.disk_usage(mountpoint).free
        with open(os.path.join(mountpoint, 'filler'), 'wb') as filler:
            os.posix_fallocate(filler.fileno(), 0, free - 64 * 1024)
        with self.assertRaises(pymysql.Error):
            with connection.cursor() as cursor:
                for _ in range(20):
                    cursor.execute('INSERT INTO grows (body) VALUES (%s)',
                                   (b'z' * 100000,))
        stopped = self.wait_for(
            instance.id, lambda i: i.status == 'SHUTDOWN' and
            getattr(i, 'fault', None), timeout=90)
        self.assertIn('data volume is full', stopped.fault['message'])
        self.assertIn('resize volume %s' % instance.id,
                      stopped.fault['message'])
        self.assertIn('no space left on device', stopped.fault['details'])
        self.assertIn('trove resize-volume', stopped.fault['details'])
        self.assertIn('error 28', stopped.fault['details'])
        # The agent reaped its dead engine: no zombie child, the engine's
        # process is gone.
        self.assertFalse(os.path.exists('/proc/%d' % engines[0]))
        self.assertEqual([], [child for child in children(agent)
                              if child[1] == 'Z'])
        # Growing the volume starts the engine again; the fault clears.
        self.trove.instances.resize_volume(instance.id, 2)
        back = self.wait_for(
            instance.id, lambda i: i.status == 'ACTIVE' and
            i.volume['size'] == 2 and not getattr(i, 'fault', None))
        self.check_rows(back, 3)

    def test_autogrow(self):
        self.enable_autogrow()
        instance = self.create('autogrow')
        mountpoint = self.mountpoint(instance.id)
        usage = shutil.disk_usage(mountpoint)
        self.assertLess(100.0 * usage.used / usage.total, THRESHOLD)
        # Past the threshold with the tenant's own rows; no more once it
        # is passed (the grow stops the database for a moment).
        connection = self.connect(instance)
        rows = self.write_rows(connection, 1000,
                               stop_at=(mountpoint, THRESHOLD + 1))
        connection.close()
        self.assertLess(rows, 1000)
        grown = self.wait_for(
            instance.id, lambda i: i.volume['size'] == 2 and
            i.status == 'ACTIVE')
        self.assertIsNone(getattr(grown, 'fault', None))
        self.check_rows(grown, rows)
        usage = shutil.disk_usage(mountpoint)
        self.assertGreater(usage.total, 1.5 * 1024 ** 3)

    def enable_autogrow(self) -> None:
        """Storage autogrow in the deployment's conf; the conductor
        restarted to read it (and again without it at the end)."""
        path = self.deployment.api.conf_path
        with open(path) as source:
            original = source.read()
        conductor = self.deployment.daemons['trove-conductor']

        def write(text: str) -> None:
            with open(path, 'w') as target:
                target.write(text)
            conductor.kill()
            conductor.start()

        self.addCleanup(write, original)
        write(original + '\n[DEFAULT]\nvolume_autogrow_threshold = %d\n'
              % THRESHOLD)

"""trove-api with no working message broker: a request that casts
answers 503 in Trove's envelope within seconds, leaves nothing half-made
(no instance, quota use given back) and trove-api still stops on SIGTERM.
Every action that casts is tried: create, delete, restart, resize volume
and flavor, upgrade, configuration attach, detach and a group's change,
module reapply, and the administrator's reboot, stop and rebuild.

Two brokers that do not work: a port where nothing listens (connections
refused at once) and a listener that accepts connections and never
speaks (every connection attempt hangs until its timeout).
"""
import os
import signal
import socket
import tempfile
import threading
import time

import requests
import testtools

from trove_clone.tests.functional import fixtures as trove_fixtures
from trove_clone.tests.functional import instances as deployment
from trove_clone.tests.functional import test_instance_faults

ADDRESS_POOL = '127.77.214.0/28'
PROJECT = 'demo'
#: Generous bound on the 503 (rpc_cast_timeout is 5 s by default).
ANSWER_BOUND = 15
#: Generous bound on trove-api's exit after SIGTERM.
STOP_BOUND = 15


class SilentBroker:
    """A TCP listener on loopback that accepts connections and never
    answers: an AMQP handshake against it hangs."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(('127.77.214.14', 0))
        self.sock.listen(64)
        self.url = 'rabbit://guest:guest@127.77.214.14:%d/' % (
            self.sock.getsockname()[1])
        self.accepted: list[socket.socket] = []
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    def _accept(self) -> None:
        while True:
            try:
                connection, _ = self.sock.accept()
            except OSError:
                return
            self.accepted.append(connection)

    def close(self) -> None:
        self.sock.close()
        for connection in self.accepted:
            connection.close()


class DeadBrokerMixin:
    """The tests, for a deployment whose broker is ``transport_url()``."""

    def transport_url(self) -> str:
        raise NotImplementedError

    def setUp(self) -> None:
        super().setUp()
        self.stack = self.useFixture(deployment.Deployment(
            ADDRESS_POOL, datastores=(), transport_url=self.transport_url()))
        with tempfile.NamedTemporaryFile(suffix='.img') as image:
            image.write(b'not a real image')
            image.flush()
            image_id = self.stack.upload(image.name, 'redis-dead', 'redis')
        self.stack.api.manage('datastore_update', 'redis', '')
        self.stack.api.manage('datastore_version_update', 'redis', '7.0',
                              'redis', image_id, '', '1')
        self.stack.api.manage('datastore_update', 'redis', '7.0')

    def call(self, method: str, path: str, body=None, admin: bool = False
             ) -> tuple[requests.Response, float]:
        headers = {'X-User-Id': 'admin' if admin else 'alice',
                   'X-Project-Id': PROJECT,
                   'X-Roles': 'admin' if admin else 'member'}
        start = time.monotonic()
        response = requests.request(
            method, '%s/v1.0/%s%s' % (self.stack.api.endpoint, PROJECT,
                                      path),
            json=body, headers=headers, timeout=60)
        return response, time.monotonic() - start

    def usage(self) -> dict:
        response, _ = self.call('GET', '/mgmt/quotas/%s' % PROJECT)
        self.assertEqual(200, response.status_code, response.text)
        return {item['resource']: item['in_use']
                for item in response.json()['quotas']}

    def test_create_answers_503_and_leaves_nothing(self) -> None:
        before = self.usage()
        for _ in range(2):
            response, elapsed = self.call('POST', '/instances', {
                'instance': {'name': 'db1', 'flavorRef': '1',
                             'volume': {'size': 1},
                             'datastore': {'type': 'redis'}}})
            self.assertEqual(503, response.status_code, response.text)
            self.assertLess(elapsed, ANSWER_BOUND)
            error = response.json()['serviceUnavailable']
            self.assertEqual(503, error['code'])
            self.assertIn('The taskmanager could not be reached',
                          error['message'])
        listed, _ = self.call('GET', '/instances')
        self.assertEqual([], listed.json()['instances'])
        mgmt, _ = self.call('GET', '/mgmt/instances', admin=True)
        self.assertEqual([], mgmt.json()['instances'])
        self.assertEqual(before, self.usage())
        self.assertEqual(0, self.usage().get('instances', 0))
        # The API still answers what needs no broker, and stops on SIGTERM.
        flavors, elapsed = self.call('GET', '/flavors')
        self.assertEqual(200, flavors.status_code)
        process = self.stack.api.process
        start = time.monotonic()
        os.killpg(process.pid, signal.SIGTERM)
        self.assertEqual(0, process.wait(STOP_BOUND + 15))
        self.assertLess(time.monotonic() - start, STOP_BOUND)


class RefusedBrokerTest(DeadBrokerMixin, testtools.TestCase):
    """Nothing listens where the broker should be."""

    def transport_url(self) -> str:
        return 'rabbit://guest:guest@127.0.0.1:1/'


class SilentBrokerTest(DeadBrokerMixin, testtools.TestCase):
    """The broker's port accepts connections and says nothing."""

    def transport_url(self) -> str:
        broker = SilentBroker()
        self.addCleanup(broker.close)
        return broker.url


class BrokerDiesUnderAnInstanceTest(testtools.TestCase):
    """RabbitMQ stops under a running instance, after trove-api has set
    up its connections and its reply listener: guest calls and casts
    answer 503 within seconds and the instance keeps its state; once the
    broker is back, the same requests work."""

    WAIT = 180

    def setUp(self) -> None:
        super().setUp()
        self.rabbit = self.useFixture(trove_fixtures.PrivateRabbitMQ())
        # Heartbeats stop with the broker: the instance must still count
        # as ready for the guest calls tried while it is down.
        self.stack = self.useFixture(deployment.Deployment(
            ADDRESS_POOL, datastores=('redis',),
            transport_url=self.rabbit.url,
            extra_conf='agent_heartbeat_expiry = 600'))

    call = DeadBrokerMixin.call
    usage = DeadBrokerMixin.usage

    def wait_for_status(self, instance_id: str, status: str) -> dict:
        deadline = time.monotonic() + self.WAIT
        while time.monotonic() < deadline:
            response, _ = self.call('GET', '/instances/%s' % instance_id)
            instance = response.json()['instance']
            if instance['status'] == status:
                return instance
            self.assertNotEqual('ERROR', instance['status'], instance)
            time.sleep(0.5)
        self.fail('%s is not %s after %d s'
                  % (instance_id, status, self.WAIT))

    def test_calls_and_casts_answer_503_and_give_back(self) -> None:
        response, _ = self.call('POST', '/instances', {'instance': {
            'name': 'db1', 'flavorRef': '1', 'volume': {'size': 1},
            'datastore': {'type': 'redis'}}})
        self.assertEqual(200, response.status_code, response.text)
        instance_id = response.json()['instance']['id']
        self.addCleanup(self.stack.delete_and_wait, instance_id)
        self.wait_for_status(instance_id, 'ACTIVE')
        users = '/instances/%s/users' % instance_id
        self.assertEqual(200, self.call('GET', users)[0].status_code)
        response, _ = self.call('POST', '/configurations', {
            'configuration': {'name': 'g1', 'values': {
                'active-defrag-cycle-max': 30},
                'datastore': {'type': 'redis'}}})
        self.assertEqual(200, response.status_code, response.text)
        group = response.json()['configuration']
        self.addCleanup(self.call, 'DELETE', '/configurations/%s'
                        % group['id'])
        response, _ = self.call('POST', '/modules', {'module': {
            'name': 'm1', 'module_type': 'ping', 'contents': 'hello'}})
        self.assertEqual(200, response.status_code, response.text)
        module_id = response.json()['module']['id']
        self.addCleanup(self.call, 'DELETE', '/modules/%s' % module_id)
        # A version to upgrade to, and an image to rebuild from.
        image_id = self.stack.images[('redis', '7.0')]
        self.stack.api.manage('datastore_version_update', 'redis', '7.1',
                              'redis', image_id, '', '1')
        before = self.usage()

        self.rabbit.stop()
        path = '/instances/%s' % instance_id
        mgmt = '/mgmt/instances/%s/action' % instance_id
        for method, where_to, body, admin in [
                ('GET', path + '/users', None, False),
                ('POST', path + '/users', {'users': [{'name': 'u1',
                                                      'password': 'pw'}]},
                 False),
                ('POST', path + '/action', {'restart': {}}, False),
                ('POST', path + '/action',
                 {'resize': {'volume': {'size': 2}}}, False),
                ('POST', path + '/action', {'resize': {'flavorRef': '2'}},
                 False),
                ('PUT', path, {'instance': {'configuration': group['id']}},
                 False),
                ('PATCH', path, {'instance': {'datastore_version': '7.1'}},
                 False),
                ('POST', mgmt, {'reboot': {}}, True),
                ('POST', mgmt, {'stop': {}}, True),
                ('POST', mgmt, {'rebuild': {'image_id': image_id}}, True),
                ('PUT', '/modules/%s/instances' % module_id,
                 {'reapply': {}}, False),
                ('DELETE', path, None, False)]:
            response, elapsed = self.call(method, where_to, body,
                                          admin=admin)
            where = '%s %s: %s' % (method, where_to, response.text)
            self.assertEqual(503, response.status_code, where)
            self.assertIn('serviceUnavailable', response.json(), where)
            self.assertLess(elapsed, ANSWER_BOUND, where)
            shown, _ = self.call('GET', path)
            self.assertEqual('ACTIVE', shown.json()['instance']['status'],
                             where)
            self.assertIsNone(shown.json()['instance'].get('configuration'),
                              where)
            self.assertEqual('7.0', shown.json()['instance']['datastore'][
                'version'], where)
        self.assertEqual(before, self.usage())

        # Back: once the daemons and the guest consume again (a message
        # sent before would find no queue on the new broker), the same
        # requests work.
        self.rabbit.start()
        restarted = time.time()
        test_instance_faults.BrokerRestartTest.wait_for_daemons(
            self, self.rabbit.url, self.stack.topics, self.stack.api.state)
        deployment.wait_for_guest(self.stack.api.database_url,
                                  instance_id, restarted)
        response, _ = self.call('POST', path + '/action', {'restart': {}})
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for_status(instance_id, 'ACTIVE')
        self.assertEqual(200, self.call('GET', users)[0].status_code)
        self.detach_and_group_change_answer_503(instance_id, group['id'])

    def detach_and_group_change_answer_503(self, instance_id: str,
                                           group_id: str) -> None:
        """With a group attached and the broker stopped again, detaching
        it and changing its values answer 503 and change nothing."""
        path = '/instances/%s' % instance_id
        response, _ = self.call('PUT', path, {'instance': {
            'configuration': group_id}})
        self.assertEqual(202, response.status_code, response.text)
        self.wait_for_status(instance_id, 'ACTIVE')
        self.rabbit.stop()
        for method, where_to, body in [
                ('PUT', path, {'instance': {}}),
                ('PUT', '/configurations/%s' % group_id, {'configuration': {
                    'values': {'active-defrag-cycle-max': 40}}})]:
            response, elapsed = self.call(method, where_to, body)
            where = '%s %s: %s' % (method, where_to, response.text)
            self.assertEqual(503, response.status_code, where)
            self.assertLess(elapsed, ANSWER_BOUND, where)
            shown, _ = self.call('GET', path)
            self.assertEqual(group_id, shown.json()['instance'][
                'configuration']['id'], where)
            group, _ = self.call('GET', '/configurations/%s' % group_id)
            self.assertEqual({'active-defrag-cycle-max': 30},
                             group.json()['configuration']['values'], where)
        # Back, for the cleanups.
        self.rabbit.start()
        test_instance_faults.BrokerRestartTest.wait_for_daemons(
            self, self.rabbit.url, self.stack.topics, self.stack.api.state)

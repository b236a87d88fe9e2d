"""Requests that cast while the broker is down: 503 in Trove's envelope,
and the instance as it was."""
import fixtures

from trove_clone.common import exception
from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.services import quotas
from trove_clone.tests.unit.api import base


class DeadBroker:
    def __getattr__(self, name: str):
        def cast(context, *args) -> None:
            raise exception.MessagingUnavailable(
                service='The taskmanager', method=name, timeout=5,
                reason='[Errno 111] Connection refused')
        return cast


class DeadBrokerApiTest(base.ApiTestCase):

    def setUp(self) -> None:
        super().setUp()
        self.make_version(default=True)
        self.useFixture(fixtures.MonkeyPatch(
            'trove_clone.api.controllers.v1.instances.tasks', DeadBroker))

    def usage(self) -> dict:
        return {item['resource']: item['in_use']
                for item in quotas.show(self.context, self.project)}

    def test_create_answers_503_and_records_nothing(self) -> None:
        response = self.send('POST', '/instances', {'instance': {
            'name': 'db1', 'flavorRef': '1', 'volume': {'size': 1},
            'datastore': {'type': 'mysql'}}},
            status=503)
        self.assertError(response, 503, 'serviceUnavailable',
                         'The taskmanager could not be reached')
        self.assertEqual([], self.get('/instances').json['instances'])
        self.assertEqual({'instances': 0, 'ram': 0, 'volumes': 0},
                         {key: value for key, value in self.usage().items()
                          if key in ('instances', 'ram', 'volumes')})

    def test_actions_answer_503_and_give_back(self) -> None:
        instance_id = self.make_instance(
            self.make_version(name='8.0'), tenant_id=self.project,
            volume_size=1, server_status='ACTIVE')
        db_instances.set_task(self.context, instance_id, statuses.NONE)
        db_instances.record_heartbeat(self.context, instance_id,
                                      statuses.HEALTHY, 1.0)
        path = '/instances/%s' % instance_id
        for method, suffix, body in [
                ('POST', '/action', {'restart': {}}),
                ('POST', '/action', {'resize': {'volume': {'size': 2}}}),
                ('POST', '/action', {'resize': {'flavorRef': '2'}}),
                ('DELETE', '', None)]:
            response = self.send(method, path + suffix, body, status=503)
            self.assertError(response, 503, 'serviceUnavailable',
                             'taskmanager')
            shown = self.get(path).json['instance']
            self.assertEqual(('ACTIVE', 'HEALTHY'),
                             (shown['status'], shown['operating_status']))
        self.assertEqual(0, self.usage().get('volumes', 0))
        self.assertEqual(0, self.usage().get('ram', 0))

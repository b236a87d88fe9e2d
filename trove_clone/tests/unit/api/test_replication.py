"""Replication through the API: replicas of a primary, their views,
promote, eject, detach and Trove's refusals (the taskmanager is a
recording stand-in)."""
import datetime
import json

from trove_clone.common import statuses
from trove_clone.db import instances as db_instances
from trove_clone.db import models
from trove_clone.tests.unit.api import test_instances


class ReplicationApiTest(test_instances.InstanceApiTest):

    def primary(self) -> str:
        self.send('PUT', '/mgmt/quotas/%s' % self.project,
                  {'quotas': {'instances': 20, 'ram': 10 ** 6,
                              'volumes': 100}}, admin=True, status=200)
        primary = self.create().json['instance']['id']
        self.make_active(primary)
        self.tasks.calls.clear()
        return primary

    def replicas(self, primary: str, count: int = 2) -> list[str]:
        created = self.send('POST', '/instances', {'instance': {
            'name': 'r', 'replica_of': primary, 'replica_count': count}},
            status=200).json['instance']
        self.assertEqual({'id': primary}, {'id': created['replica_of']['id']})
        ids = [call[1] for call in self.tasks.calls]
        for replica in ids:
            self.make_active(replica)
        self.tasks.calls.clear()
        return ids

    def task(self, instance_id: str) -> str:
        return statuses.task(db_instances.get(self.context,
                                              instance_id)['task_id']).name

    def test_replicas_of_a_primary(self) -> None:
        primary = self.primary()
        created = self.send('POST', '/instances', {'instance': {
            'name': 'r', 'replica_of': primary, 'replica_count': 2}},
            status=200).json['instance']
        self.assertEqual(2, len(self.tasks.calls))
        ids = [call[1] for call in self.tasks.calls]
        self.assertEqual(created['id'], ids[0])
        for call in self.tasks.calls:
            self.assertEqual(('create_instance', primary), (call[0],
                                                            call[2][
                                                                'replica_of']))
        rows = [db_instances.get(self.context, replica) for replica in ids]
        self.assertEqual(['r-1', 'r-2'], [row['name'] for row in rows])
        self.assertEqual({('1', 1, primary)}, {
            (row['flavor_id'], row['volume_size'], row['slave_of_id'])
            for row in rows})
        shown = self.get('/instances/%s' % primary).json['instance']
        self.assertEqual(ids, [item['id'] for item in shown['replicas']])
        self.assertIn(ids[0], shown['replicas'][0]['links'][0]['href'])
        listed = {item['id']: item for item in
                  self.get('/instances').json['instances']}
        self.assertEqual(ids, [item['id'] for item in
                               listed[primary]['replicas']])
        self.assertEqual(primary, listed[ids[1]]['replica_of']['id'])
        self.assertNotIn('replicas', listed[ids[1]])
        # Trove's refusals: a replica of a replica; deleting the primary.
        for replica in ids:
            self.make_active(replica)
        self.assertError(self.send('POST', '/instances', {'instance': {
            'name': 'x', 'replica_of': ids[0]}}, status=403), 403,
            'forbidden', 'replica of a replica')
        self.assertError(self.send('DELETE', '/instances/%s' % primary,
                                   status=403), 403, 'forbidden',
                         'without detaching the replicas')
        self.assertEqual('NONE', self.task(primary))

    def test_one_replica_keeps_its_name_and_datastore_support(self) -> None:
        primary = self.primary()
        self.send('POST', '/instances', {'instance': {
            'name': 'solo', 'replica_of': primary}}, status=200)
        self.assertEqual('solo', db_instances.get(
            self.context, self.tasks.calls[0][1])['name'])
        other = self.make_version(datastore='cassandra', name='4',
                                  manager='cassandra')
        instance = self.make_instance(other, tenant_id=self.project)
        self.make_active(instance)
        self.assertError(self.send('POST', '/instances', {'instance': {
            'name': 'x', 'replica_of': instance}}, status=400), 400,
            'badRequest', 'Replication is not supported')

    def test_promote(self) -> None:
        primary = self.primary()
        first, second = self.replicas(primary)
        self.assertError(self.send(
            'POST', '/instances/%s/action' % primary,
            {'promote_to_replica_source': {}}, status=400), 400,
            'badRequest', 'not a replica')
        self.send('POST', '/instances/%s/action' % second,
                  {'promote_to_replica_source': {}})
        self.assertEqual([('promote_to_replica_source', second)],
                         self.tasks.calls)
        self.assertEqual(['PROMOTING'] * 3, [self.task(i) for i in (
            primary, first, second)])
        self.assertEqual('PROMOTE', self.get('/instances/%s' % second).json[
            'instance']['status'])
        # The set is busy: a second action on any member is refused.
        self.assertError(self.send(
            'POST', '/instances/%s/action' % first,
            {'promote_to_replica_source': {}}, status=422), 422,
            'unprocessableEntity', 'replication set')
        self.assertError(self.send(
            'PATCH', '/instances/%s' % first,
            {'instance': {'replica_of': None}}, status=422), 422,
            'unprocessableEntity')

    def test_a_member_busy_refuses_the_promotion(self) -> None:
        primary = self.primary()
        first, second = self.replicas(primary)
        db_instances.set_task(self.context, first, statuses.RESIZING)
        self.assertError(self.send(
            'POST', '/instances/%s/action' % second,
            {'promote_to_replica_source': {}}, status=422), 422,
            'unprocessableEntity')
        self.assertEqual(['NONE', 'RESIZING', 'NONE'], [self.task(i) for i in (
            primary, first, second)])
        self.assertEqual([], self.tasks.calls)

    def test_eject(self) -> None:
        primary = self.primary()
        first, second = self.replicas(primary)
        self.assertError(self.send(
            'POST', '/instances/%s/action' % first,
            {'eject_replica_source': {}}, status=400), 400, 'badRequest',
            'not a replica source')
        self.assertError(self.send(
            'POST', '/instances/%s/action' % primary,
            {'eject_replica_source': {}}, status=400), 400, 'badRequest',
            'current heartbeat')
        old = models.utcnow() - datetime.timedelta(seconds=3600)
        with db_instances._facade.writer.using(self.context) as session:
            session.query(models.ServiceStatus).filter_by(
                instance_id=primary).update({'updated_at': old})
        self.send('POST', '/instances/%s/action' % primary,
                  {'eject_replica_source': {}})
        self.assertEqual([('eject_replica_source', primary)],
                         self.tasks.calls)
        self.assertEqual(['EJECTING'] * 3, [self.task(i) for i in (
            primary, first, second)])

    def test_detach_and_lag(self) -> None:
        primary = self.primary()
        first, _second = self.replicas(primary)
        self.sent += 1
        db_instances.record_heartbeat(
            self.context, first, statuses.HEALTHY, self.sent,
            json.dumps({'role': 'replica', 'state': 'streaming',
                        'lag_seconds': 0.4, 'lag_bytes': None,
                        'error': None, 'source': {'host': 'h'}}))
        shown = self.get('/instances/%s' % first).json['instance']
        self.assertEqual({'state': 'streaming', 'lag_seconds': 0.4,
                          'lag_bytes': None, 'error': None},
                         shown['replication'])
        self.assertNotIn('replication', self.get(
            '/instances/%s' % primary).json['instance'])
        # Users and databases change on the primary only.
        self.assertError(self.send(
            'POST', '/instances/%s/databases' % first,
            {'databases': [{'name': 'x'}]}, status=400), 400, 'badRequest',
            'is a replica')
        self.assertError(self.send(
            'DELETE', '/instances/%s/users/app' % first, status=400), 400,
            'badRequest', primary)
        self.assertError(self.send(
            'PATCH', '/instances/%s' % primary,
            {'instance': {'replica_of': None}}, status=400), 400,
            'badRequest', 'not a replica')
        self.send('PATCH', '/instances/%s' % first,
                  {'instance': {'replica_of': None}})
        self.assertEqual([('detach_replica', first)], self.tasks.calls)
        self.assertEqual('DETACH', self.get('/instances/%s' % first).json[
            'instance']['status'])

    def test_a_failed_cast_gives_the_tasks_back(self) -> None:
        primary = self.primary()
        first, second = self.replicas(primary)
        self.tasks.fail = True
        self.send('POST', '/instances/%s/action' % second,
                  {'promote_to_replica_source': {}}, status='*')
        self.assertEqual(['NONE'] * 3, [self.task(i) for i in (
            primary, first, second)])

    def test_a_primary_grows_with_its_replicas(self) -> None:
        primary = self.primary()
        first, second = self.replicas(primary)
        self.send('POST', '/instances/%s/action' % primary,
                  {'resize': {'volume': {'size': 2}}})
        self.assertEqual([('resize_volume', member, 2) for member in (
            primary, first, second)], self.tasks.calls)
        self.assertEqual(['RESIZING'] * 3, [self.task(i) for i in (
            primary, first, second)])

    def test_a_replica_may_name_a_flavor_volume_and_datastore(self) -> None:
        """Trove's tempest plugin sends them beside replica_of."""
        primary = self.primary()
        self.make_version(name='5.7.30')
        body = {'name': 'r', 'replica_of': primary, 'flavorRef': '2',
                'volume': {'size': 2},
                'datastore': {'type': 'mysql', 'version': '5.7.29'}}
        created = self.send('POST', '/instances', {'instance': body},
                            status=200).json['instance']
        row = db_instances.get(self.context, created['id'])
        self.assertEqual(('2', 2), (row['flavor_id'], row['volume_size']))
        self.assertError(self.send('POST', '/instances', {'instance': dict(
            body, datastore={'type': 'mysql', 'version': '5.7.30'})},
            status=400), 400, 'badRequest', 'datastore version')
        db_instances.update(self.context, primary, {'volume_size': 3})
        self.assertError(self.send('POST', '/instances', {
            'instance': body}, status=403), 403, 'forbidden',
            'should not be smaller')

"""The Core list reads give what the ORM reads they replace gave."""
from oslo_utils import uuidutils

from trove_clone.common import exception
from trove_clone.db import api as db_api
from trove_clone.db import configurations as db_configurations
from trove_clone.db import instances as db_instances
from trove_clone.db import listings
from trove_clone.tests.unit import base


class ListingsTest(base.TestCase):

    def setUp(self) -> None:
        super().setUp()
        self.versions = []
        for name, numbers in (('mysql', ('5.7', '8.0')), ('redis', ('7',))):
            ds = db_api.datastore_create_or_update(self.context, name)
            for number in numbers:
                self.versions.append(db_api.datastore_version_create(
                    self.context, {
                        'datastore_id': ds['id'], 'name': number,
                        'version': number, 'manager': name,
                        'image_tags': 'trove', 'active': number != '8.0'}))
            db_api.datastore_set_default_version(
                self.context, ds['id'], self.versions[-1]['id'])

    def test_versions_and_parameters(self) -> None:
        for datastore_id in (None, self.versions[0]['datastore_id']):
            for only_active in (False, True):
                self.assertEqual(
                    db_api.datastore_version_list(self.context, datastore_id,
                                                  only_active),
                    listings.datastore_versions(self.context, datastore_id,
                                                only_active))
        version_id = self.versions[0]['id']
        db_api.config_parameters_replace(self.context, version_id, [
            {'name': 'p%d' % number, 'restart_required': bool(number % 2),
             'data_type': 'integer', 'max_size': '10', 'min_size': None}
            for number in (3, 1, 2)])
        expected = db_api.config_parameter_list(self.context, version_id)
        self.assertEqual(['p1', 'p2', 'p3'], [p['name'] for p in expected])
        self.assertEqual(expected,
                         listings.config_parameters(self.context, version_id))

    def _old_instances(self, project_id, limit, marker=None,
                       include_clustered=False) -> list[dict]:
        rows = db_api.instance_list(self.context, project_id, limit, marker,
                                    include_clustered)
        services = db_instances.list_with_status(
            self.context, [row['id'] for row in rows])
        for row in rows:
            row.update(services.get(row['id'], {}))
            row['datastore_version'] = db_api.datastore_version_get(
                self.context, row['datastore_version_id'])
        return rows

    def test_instances_page(self) -> None:
        ids = []
        for number in range(5):
            instance_id = uuidutils.generate_uuid()
            db_instances.create(self.context, {
                'id': instance_id, 'name': 'i%d' % number,
                'tenant_id': 'p1' if number != 4 else 'p2',
                'flavor_id': '1',
                'cluster_id': 'c' if number == 3 else None,
                'datastore_version_id': self.versions[number % 3]['id']},
                {}, {})
            ids.append(instance_id)
        # An instance without a service status row (an old record).
        with db_api.facade.writer.using(self.context) as session:
            session.query(db_instances.ServiceStatus).filter_by(
                instance_id=ids[1]).delete()
        db_instances.mark_deleted(self.context, ids[2])
        for project_id in ('p1', 'p2', None):
            for clustered in (False, True):
                for limit in (1, 2, 10):
                    expected = self._old_instances(project_id, limit,
                                                   None, clustered)
                    self.assertEqual(expected, listings.instances_page(
                        self.context, project_id, limit, None, clustered))
                    if expected:
                        marker = expected[0]['id']
                        self.assertEqual(
                            self._old_instances(project_id, limit, marker,
                                                clustered),
                            listings.instances_page(
                                self.context, project_id, limit, marker,
                                clustered))
        page = listings.instances_page(self.context, 'p1', 10)
        self.assertNotIn('service_status', [row for row in page
                                            if row['id'] == ids[1]][0])
        self.assertRaises(exception.InstanceNotFound,
                          listings.instances_page, self.context, 'p1', 10,
                          ids[4])

    def test_configurations_page(self) -> None:
        ids = []
        for number in range(4):
            ids.append(db_configurations.create(self.context, {
                'name': 'g%d' % number, 'description': None,
                'tenant_id': 'p1' if number != 3 else 'p2',
                'datastore_version_id': self.versions[number % 2]['id']},
                {'max_connections': number})['id'])
        db_configurations.delete(self.context, ids[1])
        for marker in (None, ids[0], ids[2]):
            for limit in (1, 5):
                expected = db_configurations.list_page(self.context, 'p1',
                                                       limit, marker)
                for group in expected:
                    group['datastore_version'] = db_api.datastore_version_get(
                        self.context, group['datastore_version_id'])
                self.assertEqual(expected, listings.configurations_page(
                    self.context, 'p1', limit, marker))
        self.assertRaises(exception.ConfigurationNotFound,
                          listings.configurations_page, self.context, 'p1',
                          5, ids[3])

"""Contract suites: what every compute and volume backend promises.

Mixed into one test class per backend; the class provides ``compute`` (or
``volumes``), ``image_ids`` (two bootable images) and ``flavor_ids`` (two
flavors).
"""
from trove_clone.common import exception

UNKNOWN = '00000000-0000-0000-0000-000000000000'


class ComputeContract:

    def contract_files(self) -> dict:
        return {}

    def test_contract_server_lifecycle(self) -> None:
        first, second = self.image_ids
        server = self.compute.create('contract-1', first,
                                     self.flavor_ids[0],
                                     files=self.contract_files(),
                                     metadata={'trove_instance_id': 'i-1'})
        self.assertEqual('contract-1', server['name'])
        self.assertEqual({'trove_instance_id': 'i-1'}, server['metadata'])
        self.assertIn(server['status'], ('ACTIVE', 'BUILD'))
        self.assertEqual(first, server['image_id'])
        self.assertTrue(server['addresses'])
        self.assertEqual(server['id'], self.compute.get(server['id'])['id'])
        self.assertIn(server['id'], [s['id'] for s in self.compute.list()])
        self.compute.reboot(server['id'])
        rebuilt = self.compute.rebuild(server['id'], second)
        self.assertEqual(second, rebuilt['image_id'])
        self.assertEqual(server['addresses'], rebuilt['addresses'])
        resized = self.compute.resize(server['id'], self.flavor_ids[1])
        self.assertEqual(str(self.flavor_ids[1]), str(resized['flavor_id']))
        self.compute.delete(server['id'])
        self.assertRaises(exception.ServerNotFound, self.compute.get,
                          server['id'])
        self.assertNotIn(server['id'], [s['id'] for s in
                                        self.compute.list()])

    def test_contract_unknown_server(self) -> None:
        for call in (self.compute.get, self.compute.reboot,
                     self.compute.delete):
            self.assertRaises(exception.ServerNotFound, call, UNKNOWN)


class VolumeApiContract:

    def test_contract_volume_lifecycle(self) -> None:
        volume = self.volumes.create(1, 'contract-v')
        self.assertEqual(1, volume['size'])
        self.assertEqual('contract-v', volume['name'])
        self.assertIn(volume['id'], [v['id'] for v in self.volumes.list()])
        self.assertEqual(2, self.volumes.extend(volume['id'], 2)['size'])
        self.assertGreaterEqual(self.volumes.usage(volume['id'])['total'],
                                2 * 1024 ** 3 - 1)
        self.assertRaises(exception.BadRequest, self.volumes.extend,
                          volume['id'], 1)
        self.volumes.delete(volume['id'])
        self.assertRaises(exception.VolumeNotFound, self.volumes.get,
                          volume['id'])

    def test_contract_bad_input(self) -> None:
        self.assertRaises(exception.BadRequest, self.volumes.create, 0, 'x')
        self.assertRaises(exception.VolumeNotFound, self.volumes.get,
                          UNKNOWN)

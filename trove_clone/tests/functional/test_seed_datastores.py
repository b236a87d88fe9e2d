"""The operator walkthroughs of seeds 000 and 001, as written, with the
real trove-manage, trove and openstack commands, on each control DB."""
import json
import os
import time

from trove_clone.tests.functional import base

RULES = os.path.join(base.ROOT, 'trove_clone', 'templates', 'mysql',
                     'validation-rules.json')


def _cell(text: str) -> str:
    # python-troveclient 8.11 prints str cells as bytes: "b'mysql'".
    text = text.strip()
    if text.startswith("b'") and text.endswith("'"):
        return text[2:-1]
    return text


def table_ids(output: str) -> dict:
    """name -> id from a two-column ``| id | name |`` table."""
    rows = {}
    for line in output.splitlines():
        cells = [_cell(cell) for cell in line.strip('|').split('|')]
        if len(cells) >= 2 and cells[0] != 'id' and '-' in cells[0]:
            rows[cells[1]] = cells[0]
    return rows


class _SeedWalkthrough(base.DeploymentTestCase):

    def manage(self, *args: str) -> str:
        result = self.api.manage(*args)
        self.assertEqual('', result.stderr.strip(), result.stderr)
        return result.stdout.strip()

    def test_seed_000_and_001(self) -> None:
        self.seed_000()
        self.seed_001()

    def seed_000(self) -> None:
        glance_id = self.upload_public_image('mysql-5.5')
        self.assertIn("Datastore 'mysql' updated",
                      self.manage('datastore_update', 'mysql', ''))
        self.assertEqual(
            "Datastore version 'mysql-5.5' (mysql-5.5) created for "
            "datastore 'mysql'.",
            self.manage('datastore_version_update', 'mysql', 'mysql-5.5',
                        'mysql', glance_id, '', '1'))
        self.assertIn("default version 'mysql-5.5'",
                      self.manage('datastore_update', 'mysql', 'mysql-5.5'))
        loaded = self.manage('db_load_datastore_config_parameters', 'mysql',
                             'mysql-5.5', RULES)
        self.assertRegex(loaded, r'^Loaded \d+ configuration parameters')
        # Step 6: validate as a cloud user with the legacy CLI.
        datastores = table_ids(self.cli(self.alice, 'trove',
                                        'datastore-list'))
        self.assertIn('mysql', datastores)
        versions = table_ids(self.cli(self.alice, 'trove',
                                      'datastore-version-list',
                                      datastores['mysql']))
        self.assertEqual(['mysql-5.5'], list(versions))
        self.mysql_55 = versions['mysql-5.5']

    def seed_001(self) -> None:
        self.upload_image('trove-guest-ubuntu-jammy', 'trove', 'mysql')
        self.cli(self.admin, 'openstack', 'datastore', 'version', 'create',
                 '5.7.29', 'mysql', 'mysql', '', '--image-tags',
                 'trove,mysql', '--active', '--default', '--version-number',
                 '5.7.29')
        listing = json.loads(self.cli(self.admin, 'openstack', 'datastore',
                                      'version', 'list', 'mysql', '-f',
                                      'json'))
        by_name = {row['Name']: row for row in listing}
        self.assertEqual({'mysql-5.5', '5.7.29'}, set(by_name))
        self.assertEqual('5.7.29', by_name['5.7.29']['Version'])
        new_id = by_name['5.7.29']['ID']
        loaded = self.manage('db_load_datastore_config_parameters', 'mysql',
                             '5.7.29', RULES)
        self.assertIn("version '5.7.29' (5.7.29)", loaded)
        params = json.loads(self.cli(
            self.alice, 'openstack', 'database', 'configuration',
            'parameter', 'list', '5.7.29', '--datastore', 'mysql', '-f',
            'json'))
        names = {row['Name']: row for row in params}
        self.assertIn('max_connections', names)
        self.assertEqual(18446744073709551615,
                         int(names['max_binlog_cache_size']['Max Size']))
        shown = json.loads(self.cli(self.alice, 'openstack', 'datastore',
                                    'show', 'mysql', '-f', 'json'))
        # OSC shows the default version by name.
        self.assertEqual('5.7.29', shown['default_version'])
        # Hide a datastore version.
        self.cli(self.admin, 'openstack', 'datastore', 'version', 'set',
                 new_id, '--disable')
        self.wait_for_listing(self.alice, lambda names: '5.7.29'
                              not in names)
        # Replace image ID with tags.
        self.cli(self.admin, 'openstack', 'datastore', 'version', 'set',
                 self.mysql_55, '--image-tags', 'trove,mysql')
        detail = json.loads(self.cli(self.admin, 'openstack', 'datastore',
                                     'version', 'show', self.mysql_55, '-f',
                                     'json'))
        self.assertEqual('', detail.get('image', ''))
        self.assertIn('trove', str(detail.get('image_tags')))

    def wait_for_listing(self, user: dict, predicate) -> None:
        """The API may serve a datastore snapshot up to 1 s old."""
        deadline = time.monotonic() + 10
        while True:
            listing = json.loads(self.cli(user, 'openstack', 'datastore',
                                          'version', 'list', 'mysql', '-f',
                                          'json'))
            names = {row['Name'] for row in listing}
            if predicate(names) or time.monotonic() > deadline:
                self.assertTrue(predicate(names), names)
                return
            time.sleep(0.5)


class SqliteSeedWalkthroughTest(_SeedWalkthrough):
    backend = 'sqlite'


class MysqlSeedWalkthroughTest(_SeedWalkthrough):
    backend = 'mysql'


class PostgresqlSeedWalkthroughTest(_SeedWalkthrough):
    backend = 'postgresql'


del _SeedWalkthrough

"""Seed 003 (modules) with the legacy ``trove`` CLI, as an administrator
authenticated by Keystone, across a MariaDB ("mysql") and a Redis
instance; then a module that really changes the engine, and bad input.

The seed's cluster part waits for clusters; where the seed applies the
module to a cluster member, this walkthrough applies it to ``myinst``.
"""
import base64
import hashlib
import os
import time

import fixtures
import pymysql

from trove_clone.tests.functional import base
from trove_clone.tests.functional import instances as deployment

WAIT = 240
SEED_MD5 = {1: '7f700cc7b99606615f8b51946f6d3228',
            2: 'ba7c204979c8de54be6efb70a17d40b9',
            3: '869744bdd18e306a96c145df562065ab',
            4: '6e2c81c1547d640b4c6e7752ed0e33ab'}


def cell(text: str) -> str:
    """A table cell's value. The trove CLI's print_list encodes text
    before prettytable sees it, so on Python 3 a string shows as
    ``b'...'``: the client's doing, whatever the server sends."""
    text = text.strip()
    if len(text) >= 3 and text.startswith("b'") and text.endswith("'"):
        return text[2:-1]
    return text


def table(output: str) -> list[dict]:
    """The rows of a prettytable the CLI printed, keyed by heading."""
    lines = [line for line in output.splitlines() if line.startswith('|')]
    if not lines:
        return []
    headings = [cell(text) for text in lines[0].strip('|').split('|')]
    return [dict(zip(headings, [cell(text) for text in
                                line.strip('|').split('|')]))
            for line in lines[1:]]


def properties(output: str) -> dict:
    """A Property/Value table as a dict."""
    return {row['Property']: row['Value'] for row in table(output)}


class ModulesWalkthroughTest(deployment.DeploymentTestCase):
    address_pool = '127.77.227.0/27'
    datastores = ('mysql', 'redis')

    @classmethod
    def setUpClass(cls) -> None:
        # The seed's commands run as an administrator known to Keystone
        # (the CLI decides from the token's roles whether to show the
        # admin columns).
        cls.deployment = deployment.Deployment(
            cls.address_pool, datastores=cls.datastores, keystone=True,
            extra_conf='module_contents_max_size = 4096')
        try:
            cls.deployment.setUp()
            cls.member = cls.deployment.keystone.create_project_user(
                'project-m', 'mia', 'mia-pw')
        except BaseException:
            cls.deployment.cleanUp()
            raise

    def setUp(self) -> None:
        super().setUp()
        self.work = self.useFixture(fixtures.TempDir()).path

    # --- the CLI ------------------------------------------------------------

    def env(self, user: dict | None) -> dict:
        return base.cli_env(self.deployment.keystone.url, user or {
            'username': 'admin', 'project_name': 'admin',
            'password': self.deployment.keystone.admin_password})

    def trove(self, *argv: str, user: dict | None = None,
              fails: bool = False) -> str:
        """``trove <argv>`` in the work directory; stdout, or stderr when
        it is expected to fail."""
        return base.run_cli(self, self.env(user), ('trove',) + argv,
                            expect_failure=fails, cwd=self.work)

    def echo(self, text: str, name: str) -> None:
        """The seed's ``echo "<text>" > <name>``."""
        with open(os.path.join(self.work, name), 'w') as target:
            target.write(text + '\n')

    # The polls ask through the Python client (a CLI run costs over a
    # second of start-up); what the test checks is then read once with
    # the seed's own command.

    def python_client(self):
        """The admin's Python client, made once: its session keeps the
        token, so a poll does not cost Keystone a password check."""
        if getattr(self, '_python_client', None) is None:
            self._python_client = self.deployment.client()
        return self._python_client

    def wait_active(self, name: str) -> dict:
        trove = self.python_client()
        deadline = time.monotonic() + WAIT
        while True:
            status = {found.name: found.status
                      for found in trove.instances.list()}.get(name)
            if status == 'ACTIVE':
                break
            self.assertNotIn(status, ('ERROR', 'FAILED'), name)
            self.assertLess(time.monotonic(), deadline, status)
            time.sleep(0.5)
        shown = properties(self.trove('show', name))
        self.assertEqual('ACTIVE', shown['status'])
        return shown

    def counts(self, *extra: str) -> list[dict]:
        return table(self.trove('module-instance-count', 'mymod', *extra))

    def polled_counts(self, include_clustered: bool) -> list:
        """module-instance-count's rows through the Python client."""
        trove = self.python_client()
        module = [found for found in trove.modules.list()
                  if found.name == 'mymod'][0]
        return trove.modules.instances(module, count_only=True,
                                       include_clustered=include_clustered)

    def wait_counts(self, expected: list[tuple], *extra: str
                    ) -> list[dict]:
        """Poll module-instance-count until its (md5, current, count)
        rows are ``expected`` (reapply works in the background)."""
        deadline = time.monotonic() + 60
        while True:
            found = [(row.module_md5, str(row.current),
                      str(row.instance_count)) for row in self.polled_counts(
                          '--include_clustered' in extra)]
            if found == expected:
                break
            self.assertLess(time.monotonic(), deadline, found)
            time.sleep(0.5)
        rows = self.counts(*extra)
        self.assertEqual(expected, [
            (row['Module MD5'], row['Current'], row['Count'])
            for row in rows])
        return rows

    def status_of(self, instance: str) -> tuple:
        """(Status, Message) of mymod as module-query shows it."""
        rows = {row['Name']: row for row in
                table(self.trove('module-query', instance))}
        return rows['mymod']['Status'], rows['mymod']['Message']

    def create(self, name: str, *extra: str) -> dict:
        created = properties(self.trove('create', name, '1', '--size', '1',
                                        *extra))
        self.addCleanup(self.deployment.delete_and_wait, created['id'])
        return created

    # --- the walkthrough ----------------------------------------------------

    def test_seed_walkthrough(self) -> None:
        self.echo('message=Module.V1', 'ping1.dat')
        module = properties(self.trove('module-create', 'mymod', 'ping',
                                       'ping1.dat', '--live_update',
                                       '--datastore', 'mysql'))
        self.assertEqual(SEED_MD5[1], module['md5'])
        self.assertEqual(
            {'apply_order': '5', 'auto_apply': 'False', 'is_admin': 'True',
             'live_update': 'True', 'priority_apply': 'False',
             'visible': 'True', 'type': 'ping', 'name': 'mymod',
             'datastore': 'mysql', 'datastore_version': 'all',
             'instance_count': '0', 'description': 'None'},
            {key: module[key] for key in (
                'apply_order', 'auto_apply', 'is_admin', 'live_update',
                'priority_apply', 'visible', 'type', 'name', 'datastore',
                'datastore_version', 'instance_count', 'description')})
        self.assertEqual(module['tenant'], module['tenant_id'])
        self.assertEqual(set(['created', 'updated', 'id', 'datastore_id',
                              'datastore_version_id']),
                         set(module) - set(['apply_order', 'auto_apply',
                                            'is_admin', 'live_update',
                                            'priority_apply', 'visible',
                                            'type', 'name', 'datastore',
                                            'datastore_version',
                                            'instance_count', 'description',
                                            'md5', 'tenant', 'tenant_id']))

        myinst = self.create('myinst', '--module', 'mymod', '--datastore',
                             'mysql', '--databases', 'appdb', '--users',
                             'app:app-pass')
        self.assertEqual(('BUILD', 'mysql', 'True'), (
            myinst['status'], myinst['datastore'],
            myinst['encrypted_rpc_messaging']))
        shown = self.wait_active('myinst')

        query = table(self.trove('module-query', 'myinst'))
        self.assertEqual(['Name', 'Type', 'Datastore', 'Version', 'Status',
                          'Message', 'Created', 'Updated'],
                         list(query[0]))
        self.assertEqual(('mymod', 'ping', 'mysql', 'all', 'OK',
                          'Module.V1'), tuple(query[0].values())[:6])
        self.assertRegex(query[0]['Created'],
                         r'^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d\d$')

        counts = self.counts()
        self.assertEqual(['Module Name', 'Min Updated Date',
                          'Max Updated Date', 'Module MD5', 'Current',
                          'Count'], list(counts[0]))
        self.assertEqual([('mymod', SEED_MD5[1], 'True', '1')],
                         [(row['Module Name'], row['Module MD5'],
                           row['Current'], row['Count']) for row in counts])
        self.assertRegex(counts[0]['Min Updated Date'],
                         r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d$')
        first_applied = counts[0]['Min Updated Date']

        listed = table(self.trove('module-instances', 'mymod'))
        self.assertEqual(['ID', 'Name', 'Datastore', 'Datastore Version',
                          'Status', 'Flavor ID', 'Size', 'Region',
                          'Tenant ID'], list(listed[0]))
        self.assertEqual((myinst['id'], 'myinst', 'mysql', 'ACTIVE', '1'),
                         (listed[0]['ID'], listed[0]['Name'],
                          listed[0]['Datastore'], listed[0]['Status'],
                          listed[0]['Size']))

        # A module for mysql does not go on a Redis instance (the
        # default datastore here), and nothing is created.
        before = table(self.trove('list'))
        error = self.trove('create', 'myinst_2', '1', '--size', '1',
                           '--module', 'mymod', fails=True)
        self.assertIn('it applies to mysql instances only', error)
        self.assertIn('--all_datastores', error)
        self.assertEqual(before, table(self.trove('list')))
        self.trove('module-update', 'mymod', '--all_datastores')

        self.echo('message=Module.V2', 'ping2.dat')
        updated = properties(self.trove('module-update', 'mymod', '--file',
                                        'ping2.dat'))
        self.assertEqual((SEED_MD5[2], 'all', 'all'), (
            updated['md5'], updated['datastore'],
            updated['datastore_version']))
        self.assertNotIn('instance_count', updated)
        self.assertEqual([(SEED_MD5[1], 'False', '1')],
                         [(row['Module MD5'], row['Current'], row['Count'])
                          for row in self.counts()])

        applied = table(self.trove('module-apply', 'myinst', 'mymod'))
        self.assertEqual([{'Name': 'mymod', 'Type': 'ping',
                           'Datastore': 'all', 'Version': 'all',
                           'Status': 'OK', 'Message': 'Module.V2'}],
                         applied)
        self.wait_counts([(SEED_MD5[2], 'True', '1')], '--include_clustered')

        self.echo('message=Module.V3', 'ping3.dat')
        self.trove('module-update', 'mymod', '--file', 'ping3.dat')
        myinst_2 = self.create('myinst_2', '--module', 'mymod')
        self.assertEqual('redis', myinst_2['datastore'])
        self.wait_active('myinst_2')
        self.assertEqual(('OK', 'Module.V3'), self.status_of('myinst_2'))

        self.echo('message=Module.V4', 'ping4.dat')
        self.assertEqual(SEED_MD5[4], properties(self.trove(
            'module-update', 'mymod', '--file', 'ping4.dat'))['md5'])
        listed = {row['Name']: row for row in table(self.trove('list'))}
        self.assertEqual(('mysql', 'redis'), (
            listed['myinst']['Datastore'], listed['myinst_2']['Datastore']))
        self.wait_counts([(SEED_MD5[2], 'False', '1'),
                          (SEED_MD5[3], 'False', '1')],
                         '--include_clustered')

        self.trove('module-reapply', 'mymod', '--md5=%s' % SEED_MD5[3],
                   '--include_clustered')
        rows = self.wait_counts([(SEED_MD5[2], 'False', '1'),
                                 (SEED_MD5[4], 'True', '1')],
                                '--include_clustered')
        self.assertEqual(('OK', 'Module.V4'), self.status_of('myinst_2'))

        # --force applies again what is current: only the dates move.
        time.sleep(1.1)
        before_force = rows[1]['Max Updated Date']
        self.trove('module-reapply', 'mymod', '--md5=%s' % SEED_MD5[4],
                   '--include_clustered', '--force')
        deadline = time.monotonic() + 60
        while self.polled_counts(True)[1].max_updated_date == before_force:
            self.assertLess(time.monotonic(), deadline)
            time.sleep(0.5)
        forced = self.counts('--include_clustered')
        self.assertEqual((SEED_MD5[4], 'True', '1'), (
            forced[1]['Module MD5'], forced[1]['Current'],
            forced[1]['Count']))

        # Without --force only the instance not current moves; the
        # minimum updated date stays.
        self.trove('module-reapply', 'mymod', '--include_clustered',
                   '--batch_size=1', '--delay=3')
        final = self.wait_counts([(SEED_MD5[4], 'True', '2')],
                                 '--include_clustered')
        self.assertEqual(forced[1]['Min Updated Date'],
                         final[0]['Min Updated Date'])
        self.assertLessEqual(first_applied, final[0]['Min Updated Date'])
        self.assertEqual(('OK', 'Module.V4'), self.status_of('myinst'))
        self.other_module_commands()

        self.real_module_on(shown)

    def other_module_commands(self) -> None:
        """module-list, -show, -list-instance and -retrieve."""
        listed = table(self.trove('module-list'))
        self.assertEqual(['ID', 'Name', 'Type', 'Datastore', 'Version',
                          'Auto Apply', 'Priority', 'Order', 'Admin',
                          'Tenant', 'Visible'], list(listed[0]))
        self.assertEqual([('mymod', 'ping', 'all', 'True')],
                         [(row['Name'], row['Type'], row['Datastore'],
                           row['Admin']) for row in listed])
        shown = properties(self.trove('module-show', 'mymod'))
        self.assertEqual((SEED_MD5[4], '2'), (shown['md5'],
                                              shown['instance_count']))
        on_instance = table(self.trove('module-list-instance', 'myinst'))
        self.assertEqual([('mymod', 'ping', SEED_MD5[4])],
                         [(row['Name'], row['Type'], row['Md5'])
                          for row in on_instance])
        output = self.trove('module-retrieve', 'myinst', '--directory',
                            'retrieved')
        self.assertIn("Module contents for 'mymod' written to", output)
        files = os.listdir(os.path.join(self.work, 'retrieved'))
        self.assertEqual(['mymod_all_all.dat'], files)
        with open(os.path.join(self.work, 'retrieved', files[0])) as data:
            self.assertEqual('message=Module.V4\n', data.read())

    def real_module_on(self, shown: dict) -> None:
        """An ``sql`` module changes the engine at apply and undoes it at
        remove."""
        self.echo('-- apply\nCREATE TABLE appdb.audit (id INT);\n'
                  'INSERT INTO appdb.audit VALUES (7);\n'
                  '-- remove\nDROP TABLE appdb.audit;', 'audit.sql')
        module = properties(self.trove('module-create', 'audit', 'sql',
                                       'audit.sql', '--datastore', 'mysql'))
        with open(os.path.join(self.work, 'audit.sql'), 'rb') as source:
            self.assertEqual(hashlib.md5(base64.b64encode(
                source.read())).hexdigest(), module['md5'])
        applied = table(self.trove('module-apply', 'myinst', 'audit'))
        self.assertEqual('OK', applied[0]['Status'], applied)
        address = shown['ip'].strip("[]'\" ").split(',')[0].strip("'\" ")
        connection = pymysql.connect(host=address, user='app',
                                     password='app-pass', database='appdb')
        with connection, connection.cursor() as cursor:
            cursor.execute('SELECT id FROM audit')
            self.assertEqual([(7,)], list(cursor.fetchall()))
        # Applied at its current md5 and not live_update: it stays.
        self.assertIn('live_update', self.trove('module-delete', 'audit',
                                                fails=True))
        self.trove('module-remove', 'myinst', 'audit')
        names = [row['Name'] for row in
                 table(self.trove('module-query', 'myinst'))]
        self.assertEqual(['mymod'], names)
        connection = pymysql.connect(host=address, user='app',
                                     password='app-pass', database='appdb')
        with connection, connection.cursor() as cursor:
            cursor.execute("SHOW TABLES LIKE 'audit'")
            self.assertEqual((), cursor.fetchall())
        self.trove('module-delete', 'audit')

    def test_bad_input_changes_nothing(self) -> None:
        self.echo('message=Module.V1', 'ping1.dat')
        self.trove('module-create', 'badmod', 'ping', 'ping1.dat')
        self.addCleanup(self.trove, 'module-delete', 'badmod')
        before = self.trove('module-list')
        member_before = self.trove('module-list', user=self.member)

        error = self.trove('module-create', 'other', 'nosuch', 'ping1.dat',
                           fails=True)
        self.assertIn("Module type 'nosuch' was not found", error)
        error = self.trove('module-create', 'badmod', 'ping', 'ping1.dat',
                           fails=True)
        self.assertIn("named 'badmod'", error)
        with open(os.path.join(self.work, 'big.dat'), 'w') as big:
            big.write('message=' + 'x' * 5000 + '\n')
        error = self.trove('module-create', 'big', 'ping', 'big.dat',
                           fails=True)
        self.assertIn('module_contents_max_size', error)
        error = self.trove('module-create', 'mine', 'ping', 'ping1.dat',
                           '--auto_apply', user=self.member, fails=True)
        self.assertIn('auto_apply', error)
        # As in Trove, an md5 no instance has is accepted (202) and
        # changes nothing.
        self.trove('module-reapply', 'badmod',
                   '--md5=00000000000000000000000000000000')
        error = self.trove('module-create', 'ds', 'ping', 'ping1.dat',
                           '--datastore', 'nosuch', fails=True)
        self.assertIn('nosuch', error)
        self.assertEqual(before, self.trove('module-list'))
        self.assertEqual(member_before,
                         self.trove('module-list', user=self.member))
        # Members list and find modules too (by name, through the list).
        self.trove('module-create', 'membermod', 'ping', 'ping1.dat',
                   user=self.member)
        shown = properties(self.trove('module-show', 'membermod',
                                      user=self.member))
        self.assertEqual('False', shown['is_admin'])
        self.trove('module-delete', 'membermod', user=self.member)

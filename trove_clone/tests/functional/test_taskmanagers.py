"""Two taskmanagers and two conductors on one control database and one
broker, sharing the flows through a Redis jobboard (a Redis of the
test's own, with a password), through the real python-troveclient.

Six creates, then a volume resize, a flavor resize and an upgrade run
at once; during the creates and during each action the taskmanager that
owns the flow is killed with SIGKILL at a random task (and started
again). Every operation completes on whichever taskmanager claims the
lapsed job, resumed after its last completed task, and none runs twice:
no task of a flow succeeds twice, each instance has one server and one
volume, each flow ends once. Deleted, the instances leave no server,
volume, quota use, saved flow or job.
"""
import os
import random
import re
import secrets
import subprocess
import time

from taskflow.jobs import backends as job_backends

from trove_clone.tests.functional import fixtures as trove_fixtures
from trove_clone.tests.functional import instances as deployment
from trove_clone.tests.functional import taskmanager_checks as checks

WAIT = 150
PROJECT = 'two-tm'
CONDUCTOR_LINE = re.compile(r'Conductor (\S+) claims flows from the '
                            r'jobboard')
#: The tasks of each flow a kill may hit: not the first (the flow has
#: then done something to resume after) nor the last.
TASKS = {
    'create_instance': ('volume', 'image', 'guest queue', 'server',
                        'modules', 'prepare', 'guest'),
    'resize_volume': ('quota', 'stop database', 'extend volume',
                      'record size', 'start database', 'wait'),
    'resize_flavor': ('quota', 'stop database', 'update flavor',
                      'resize server', 'record flavor', 'wait'),
    'upgrade': ('image', 'pre_upgrade', 'rebuild', 'agent',
                'post_upgrade', 'post_upgrade wait'),
}
FLAVOR_RAM = {'1': 512, '2': 1024, '3': 2048}
#: ``flow=task,flow=task`` picks the kill point instead of chance (to
#: repeat a failure): TROVE_CLONE_TEST_KILL_AT='resize_volume=extend volume'
KILL_AT = dict(item.split('=', 1) for item in os.environ.get(
    'TROVE_CLONE_TEST_KILL_AT', '').split(',') if '=' in item)


class TwoTaskmanagersTest(deployment.DeploymentTestCase):

    address_pool = '127.77.100.0/28'

    @classmethod
    def setUpClass(cls) -> None:
        cls.redis = checks.PrivateRedis()
        cls.redis.setUp()
        cls.namespace = 'trove-test-%s' % secrets.token_hex(4)
        cls.extra_conf = '\n'.join([
            'max_instances_per_tenant = 20',
            '[taskflow]', 'jobboard_backend = redis',
            'jobboard_redis_port = %d' % cls.redis.port,
            'jobboard_redis_password = %s' % cls.redis.password,
            'jobboard_namespace = %s' % cls.namespace,
            'claim_lease = 3', 'jobboard_poll_interval = 0.1'])
        try:
            super().setUpClass()
        except BaseException:
            cls.redis.cleanUp()
            raise

    @classmethod
    def tearDownClass(cls) -> None:
        try:
            super().tearDownClass()
        finally:
            cls.redis.cleanUp()

    @classmethod
    def prepare_deployment(cls) -> None:
        stack = cls.deployment
        # The default last: registering a version resets it.
        for version, default in (('7.0', False), ('6.2', True)):
            stack.register('redis', version, default=default)
        cls.taskmanagers = [stack.daemons['trove-taskmanager']]
        for program in ('trove-taskmanager', 'trove-conductor'):
            daemon = stack.useFixture(trove_fixtures.Daemon(
                program, stack.api.conf_path, stack.api.state,
                name='%s-2' % program))
            if program == 'trove-taskmanager':
                cls.taskmanagers.append(daemon)

    def setUp(self) -> None:
        super().setUp()
        self.trove = self.deployment.client(project=PROJECT)
        self.admin = self.deployment.client(user='admin')
        self.state = self.deployment.state
        self.database = self.deployment.api.database_url
        checks.keep_logs(self, self.deployment)
        self.board = job_backends.fetch(
            'observer', {'board': 'redis', 'host': '127.0.0.1',
                         'port': self.redis.port,
                         'password': self.redis.password,
                         'namespace': self.namespace.encode('utf-8')})
        self.board.connect()
        self.addCleanup(self.board.close)
        self.logs = [daemon.log_path for daemon in self.taskmanagers]
        self.watch = checks.LogWatch(self.logs)
        for daemon in self.taskmanagers:
            self.conductor_name(daemon)
        self.kills: list = []

    # --- the taskmanagers and the jobboard --------------------------------

    def conductor_name(self, daemon, after: int = 0) -> str:
        """The jobboard name of ``daemon``'s conductor (its latest start,
        the ``after``-th or later)."""
        def named():
            names = [match.group(1) for match in map(
                CONDUCTOR_LINE.search, checks.read_log(daemon.log_path))
                if match]
            return names[-1] if len(names) > after else None
        return checks.wait_until(named, 30, '%s claims' % daemon.name)

    def owners(self) -> dict:
        """Flow uuid -> the jobboard name of its claim's owner."""
        found = {}
        for job in self.board.iterjobs(ensure_fresh=True):
            try:
                owner = self.board.find_owner(job)
            except TypeError:
                # taskflow's Redis board reads the owner key after seeing
                # it exist; a claim released in between decodes None.
                continue
            if owner:
                found[job.details.get('flow_uuid')] = owner
        return found

    def kill_owner(self, flow_uuid: str) -> set:
        """SIGKILL the taskmanager whose conductor holds the flow's job
        and start it again; returns the flows it held that had begun (a
        task of theirs had started)."""
        owner = checks.wait_until(lambda: self.owners().get(flow_uuid), 30,
                                  'a claim on flow %s' % flow_uuid,
                                  poll=0.05)
        names = {self.conductor_name(daemon): daemon
                 for daemon in self.taskmanagers}
        daemon = names[owner]
        held = {uuid for uuid, name in self.owners().items()
                if name == owner} | {flow_uuid}
        daemon.kill()
        held = {uuid for uuid in held if self.watch.events(uuid)}
        self.kills.append((daemon.name, sorted(held)))
        starts = len([line for line in checks.read_log(daemon.log_path)
                      if CONDUCTOR_LINE.search(line)])
        daemon.start()
        self.conductor_name(daemon, after=starts)
        return held

    def flow(self, instance_id: str, name: str, known: set) -> str:
        """The uuid of the instance's flow ``name`` that is not in
        ``known``, once it is saved."""
        def saved():
            return [flow['uuid'] for flow in checks.flows_of(
                self.database, instance_id) if flow['name'] == name and
                flow['uuid'] not in known]
        return checks.wait_until(saved, 30, '%s of %s saved'
                                 % (name, instance_id))[0]

    def kill_during(self, name: str, flow_uuid: str) -> set | None:
        """At a random task of the flow (once it runs), kill its owner;
        the flows it held, or None when the flow ended first."""
        task = KILL_AT.get(name) or random.choice(TASKS[name])

        def reached():
            if self.finished(flow_uuid):
                return 'finished'
            return any(event['task'] == task
                       for event in self.watch.events(flow_uuid))
        if checks.wait_until(reached, WAIT, 'task %s of %s' % (
                task, flow_uuid), poll=0.05) == 'finished':
            return None
        return self.kill_owner(flow_uuid)

    def finished(self, flow_uuid: str) -> bool:
        return checks.flow_state(self.database, flow_uuid) in \
            checks.FINISHED

    def all_flows(self) -> list:
        return [flow for instance_id in self.ids
                for flow in checks.flows_of(self.database, instance_id)]

    # --- checks --------------------------------------------------------------

    def assertRanOnce(self, flow_uuid: str) -> None:
        """No task of the flow succeeded twice, its last task once, and it
        ended SUCCESS."""
        # An instance shows ACTIVE from the last task; the flow ends after.
        checks.wait_until(lambda: self.finished(flow_uuid), 30,
                          'flow %s ends' % flow_uuid)
        succeeded = [event['task'] for event in
                     self.watch.events(flow_uuid)
                     if event['state'] == 'SUCCESS']
        twice = {task for task in succeeded if succeeded.count(task) > 1}
        self.assertEqual(set(), twice, flow_uuid)
        self.assertIn('finish', succeeded, flow_uuid)
        states = checks.atom_states(self.database, flow_uuid)
        self.assertEqual({'SUCCESS'}, set(states.values()), states)

    def assertResumed(self, flow_uuid: str) -> None:
        resumed = [event for event in checks.resumes(self.logs)
                   if event['uuid'] == flow_uuid]
        self.assertNotEqual([], resumed, 'flow %s was not resumed; kills: '
                            '%s' % (flow_uuid, self.kills))

    def wait_all(self, instance_ids, wanted) -> list:
        return [checks.wait_for_instance(
            self.trove, instance_id, wanted, WAIT)
            for instance_id in instance_ids]

    def assertJobboardStatus(self) -> None:
        """trove-status accepts the jobboard (it answers, with a
        password)."""
        result = subprocess.run(
            [os.path.join(trove_fixtures.BIN, 'trove-status'),
             '--config-file', self.deployment.api.conf_path, 'upgrade',
             'check'], capture_output=True, text=True, timeout=120)
        self.assertIn('Jobboard at 127.0.0.1:%d.' % self.redis.port,
                      result.stdout, result.stdout + result.stderr)

    # --- the test ----------------------------------------------------------

    def test_killed_taskmanagers_leave_no_operation_undone_or_twice(
            self) -> None:
        self.assertJobboardStatus()
        started = time.monotonic()
        before = checks.usage(self.admin, PROJECT)
        self.ids = [self.trove.instances.create(
            'tm-%d' % number, '1', volume={'size': 1}, datastore='redis',
            datastore_version='6.2').id for number in range(6)]
        self.addCleanup(checks.delete_all, self.trove, self.ids)
        creates = {instance_id: self.flow(instance_id, 'create_instance',
                                          set())
                   for instance_id in self.ids}
        target = random.choice(self.ids)
        held = self.kill_during('create_instance', creates[target])
        self.assertIsNotNone(held, 'the create ended before its kill')
        for instance in self.wait_all(self.ids,
                                      lambda i: i.status != 'BUILD'):
            self.assertEqual('ACTIVE', instance.status,
                             getattr(instance, 'fault', None))
        self.assertResumed(creates[target])
        for instance_id, flow_uuid in creates.items():
            self.assertRanOnce(flow_uuid)
            self.assertEqual(1, len(checks.servers_of(self.state,
                                                      instance_id)))
            self.assertEqual(1, len(checks.volumes_of(self.state,
                                                      instance_id)))
            if flow_uuid in held:
                self.assertResumed(flow_uuid)
        created = time.monotonic()

        expected = self.resize_and_upgrade_with_kills()
        for instance in self.wait_all(expected, lambda i: i.status not in (
                'RESIZE', 'UPGRADE')):
            self.assertEqual('ACTIVE', instance.status,
                             getattr(instance, 'fault', None))
            for key, value in expected[instance.id].items():
                shown = {'volume': instance.volume['size'],
                         'flavor': instance.flavor['id'],
                         'version': instance.datastore['version']}[key]
                self.assertEqual(value, shown, instance.id)
            self.assertEqual(1, len(checks.servers_of(self.state,
                                                      instance.id)))
        for flow in self.all_flows():
            self.assertRanOnce(flow['uuid'])
        resized = expected[self.ids[0]]['volume']
        ram = FLAVOR_RAM[expected[self.ids[1]]['flavor']]
        used = checks.usage(self.admin, PROJECT)
        self.assertEqual((6, 6 + resized - 1, 5 * 512 + ram),
                         (used['instances'], used['volumes'], used['ram']))
        acted = time.monotonic()

        checks.delete_all(self.trove, self.ids)
        self.assertEqual([], checks.servers(self.state))
        self.assertEqual([], checks.volumes(self.state))
        self.assertEqual(before, checks.usage(self.admin, PROJECT))
        # A delete flow's last task ends after the instance is gone from
        # the API: give it a moment, not forever.
        try:
            checks.wait_until(
                lambda: not checks.unfinished_flows(self.database) and
                not list(self.board.iterjobs(ensure_fresh=True)), 30,
                'every flow finished and every job consumed')
        except AssertionError:
            self.assertEqual([], checks.unfinished_flows(self.database))
            self.assertEqual([], list(self.board.iterjobs(
                ensure_fresh=True)))
        checks.report(
            'Two taskmanagers: creates %.0f s, actions %.0f s, deletes '
            '%.0f s; kills (taskmanager, flows it held) %s' % (
                created - started, acted - created,
                time.monotonic() - acted, self.kills))

    def resize_and_upgrade_with_kills(self) -> dict:
        """A volume resize, a flavor resize and an upgrade at once; the
        owner of each is killed at a random task of it (an action that
        ended before its kill is asked again). Returns what each
        instance should show once they are done."""
        volume_id, flavor_id, upgrade_id = self.ids[:3]
        sizes, flavors = iter((2, 3, 4)), iter(('2', '3', '2'))
        expected = {volume_id: {}, flavor_id: {},
                    upgrade_id: {'version': '7.0'}}
        actions = {
            'resize_volume': (volume_id, lambda: self.trove.instances.
                              resize_volume(volume_id, expected[volume_id].
                                            setdefault('volume',
                                                       next(sizes)))),
            'resize_flavor': (flavor_id, lambda: self.trove.instances.
                              resize_instance(flavor_id, expected[
                                  flavor_id].setdefault('flavor',
                                                        next(flavors)))),
            'upgrade': (upgrade_id, lambda: self.trove.instances.upgrade(
                upgrade_id, '7.0')),
        }
        known = {flow['uuid'] for flow in self.all_flows()}
        flows = {}
        for name, (instance_id, act) in actions.items():
            act()
            flows[name] = self.flow(instance_id, name, known)
        covered: set = set()
        for attempt in range(3):
            for name in random.sample(sorted(flows), len(flows)):
                if name in covered:
                    continue
                held = self.kill_during(name, flows[name])
                if held:
                    covered |= {other for other, uuid in flows.items()
                                if uuid in held}
            if covered == set(flows):
                break
            # What ended before its kill is asked again, once it is done.
            for name in set(flows) - covered:
                instance_id, act = actions[name]
                checks.wait_for_instance(self.trove, instance_id,
                                         lambda i: i.status == 'ACTIVE',
                                         WAIT)
                expected[instance_id].pop('volume', None)
                expected[instance_id].pop('flavor', None)
                known = {flow['uuid'] for flow in self.all_flows()}
                act()
                flows[name] = self.flow(instance_id, name, known)
        self.assertEqual(set(flows), covered, self.kills)
        for name, flow_uuid in flows.items():
            checks.wait_until(lambda: self.finished(flow_uuid), WAIT,
                              '%s done' % name)
            self.assertResumed(flow_uuid)
        return expected

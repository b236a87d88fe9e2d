"""One taskmanager (no jobboard) that dies and comes back, and a resize
that fails for real, through the real python-troveclient:

* killed with SIGKILL once a create has done its volume task (or a
  later one), it resumes the flow after its last completed task at its
  restart and the instance becomes ACTIVE, with one server and one
  volume;
* a flavor resize the host cannot hold reverts, gives back the RAM the
  API counted for it and starts the database it stopped again;
* twenty flows left unfinished at a restart are resumed beside a new
  create, which is not held up behind them.
"""
import random
import time

from trove_clone.drivers.compute import local as local_compute
from trove_clone.tests.functional import instances as deployment
from trove_clone.tests.functional import taskmanager_checks as checks

WAIT = 180
#: Tasks of create_instance after which a kill leaves the flow in the
#: middle (each is followed by one that waits for the guest).
KILL_AFTER = ('volume', 'image', 'guest queue', 'server', 'modules',
              'prepare')
UNFINISHED = 20


class TaskmanagerRestartTest(deployment.DeploymentTestCase):

    address_pool = '127.77.100.64/27'
    datastores = ('redis',)
    volume_pool_gb = 40
    extra_conf = 'max_instances_per_tenant = 40'

    def setUp(self) -> None:
        super().setUp()
        self.admin = self.deployment.client(user='admin')
        self.taskmanager = self.deployment.daemons['trove-taskmanager']
        self.state = self.deployment.state
        self.database = self.deployment.api.database_url
        checks.keep_logs(self, self.deployment)

    def project(self, name: str):
        """A client of a project of this test's own (its own quota)."""
        return self.deployment.client(project=name)

    def assertNothingLeft(self, trove, project: str,
                          instance_ids: list) -> None:
        checks.delete_all(trove, instance_ids)
        for instance_id in instance_ids:
            self.assertEqual([], checks.servers_of(self.state, instance_id))
            self.assertEqual([], checks.volumes_of(self.state, instance_id))
        self.assertEqual({}, {name: used for name, used in checks.usage(
            self.admin, project).items() if used})
        self.assertEqual([], [flow for flow in checks.unfinished_flows(
            self.database) if flow['subject'] in instance_ids])

    def restart_taskmanager(self) -> None:
        self.taskmanager.start()
        checks.wait_until(lambda: self.taskmanager.process.poll() is None,
                          5, 'the taskmanager runs')

    def delete_all(self, trove, instance_ids: list) -> None:
        """Cleanup: the taskmanager and conductor run again (for this
        delete and the tests that follow), then the instances go."""
        for daemon in self.deployment.daemons.values():
            if daemon.process.poll() is not None:
                daemon.start()
        checks.delete_all(trove, instance_ids)

    # --- (b) ---------------------------------------------------------------

    def test_killed_mid_create_resumes_after_its_last_task(self) -> None:
        trove = self.project('resume')
        after = random.choice(KILL_AFTER)
        created = trove.instances.create('resume', '1', volume={'size': 1},
                                         datastore='redis')
        self.addCleanup(self.delete_all, trove, [created.id])
        log = [self.taskmanager.log_path]
        done = checks.wait_until(
            lambda: [event for event in checks.task_events(
                log, subject=created.id) if event['task'] == after and
                event['state'] == 'SUCCESS'], 60,
            'task %s of the create' % after)
        self.taskmanager.kill()
        flow_uuid = done[0]['uuid']
        states = checks.atom_states(self.database, flow_uuid)
        self.assertEqual('SUCCESS', states['volume'])
        self.assertNotEqual('SUCCESS', states['finish'],
                            'the create finished before the kill')
        before_restart = len(checks.read_log(self.taskmanager.log_path))
        self.restart_taskmanager()

        instance = checks.wait_for_instance(
            trove, created.id, lambda i: i.status != 'BUILD', WAIT)
        self.assertEqual('ACTIVE', instance.status,
                         getattr(instance, 'fault', None))
        resumed = [event for event in checks.resumes(log, created.id)
                   if event['uuid'] == flow_uuid]
        self.assertEqual(1, len(resumed), resumed)
        self.assertIn('volume', resumed[0]['done'])
        self.assertIn(after, resumed[0]['done'])
        # No task done before the kill runs again after the restart.
        lines = checks.read_log(self.taskmanager.log_path)[before_restart:]
        again = [line for line in lines for task in resumed[0]['done']
                 if ': task %s -> RUNNING' % task in line and
                 flow_uuid in line]
        self.assertEqual([], again)
        # ACTIVE comes with the last task; the flow's end just after.
        checks.wait_until(lambda: checks.flow_state(
            self.database, flow_uuid) in checks.FINISHED, 30, 'the flow ends')
        self.assertEqual([{'name': 'create_instance', 'uuid': flow_uuid,
                           'state': 'SUCCESS'}],
                         checks.flows_of(self.database, created.id))
        self.assertEqual(1, len(checks.servers_of(self.state, created.id)))
        self.assertEqual(1, len(checks.volumes_of(self.state, created.id)))
        self.assertNothingLeft(trove, 'resume', [created.id])

    # --- (c) ---------------------------------------------------------------

    def test_failed_flavor_resize_gives_its_ram_back(self) -> None:
        """A flavor larger than the host: the local compute driver finds
        no valid host for it, as a cloud's scheduler would. The flow
        reverts: the RAM the API counted is given back, the flavor stays,
        the database the flow stopped runs again."""
        too_big = local_compute.host_ram_mb() * 4
        self.deployment.api.manage('flavor_create', '90', 'too-big',
                                   str(too_big), '1', '1')
        trove = self.project('resize-quota')
        created = trove.instances.create('resize', '1', volume={'size': 1},
                                         datastore='redis')
        self.addCleanup(self.delete_all, trove, [created.id])
        checks.wait_for_instance(
            trove, created.id, lambda i: i.status == 'ACTIVE' and
            i.operating_status == 'HEALTHY', WAIT)
        before = checks.usage(self.admin, 'resize-quota')
        self.assertEqual(512, before['ram'])

        trove.instances.resize_instance(created.id, '90')
        instance = checks.wait_for_instance(
            trove, created.id, lambda i: i.status != 'RESIZE', WAIT)
        self.assertEqual('ACTIVE', instance.status)
        self.assertIn('Resize_flavor failed at step resize server: No '
                      'valid host', instance.fault['message'])
        self.assertEqual('1', instance.flavor['id'])
        self.assertEqual(before, checks.usage(self.admin, 'resize-quota'))
        # The database the flow stopped answers again.
        checks.wait_for_instance(
            trove, created.id, lambda i: i.operating_status == 'HEALTHY',
            60)
        self.assertEqual(1, len(checks.servers_of(self.state, created.id)))
        self.assertNothingLeft(trove, 'resize-quota', [created.id])

    # --- (e) ---------------------------------------------------------------

    def timed_create(self, trove, name: str) -> tuple[str, float]:
        """Create an instance; its id and seconds to ACTIVE."""
        start = time.monotonic()
        created = trove.instances.create(name, '1', volume={'size': 1},
                                         datastore='redis')
        instance = checks.wait_for_instance(
            trove, created.id, lambda i: i.status != 'BUILD', WAIT)
        self.assertEqual('ACTIVE', instance.status,
                         getattr(instance, 'fault', None))
        return created.id, time.monotonic() - start

    def test_unfinished_flows_do_not_delay_a_new_create(self) -> None:
        trove = self.project('restart-load')
        made: list = []
        self.addCleanup(self.delete_all, trove, made)
        baseline_id, baseline = self.timed_create(trove, 'baseline')
        made.append(baseline_id)

        # Without a conductor no guest reports: no create can finish
        # before the taskmanager is killed.
        conductor = self.deployment.daemons['trove-conductor']
        conductor.kill()
        for number in range(UNFINISHED):
            made.append(trove.instances.create(
                'load-%d' % number, '1', volume={'size': 1},
                datastore='redis').id)
        waiting = set(made[1:])
        checks.wait_until(lambda: waiting <= {
            flow['subject'] for flow in checks.unfinished_flows(
                self.database)}, 120, 'the %d flows saved' % UNFINISHED)
        # Killed once some have reached the guest: they stop wherever
        # they are, from their first task to waiting for the guest.
        checks.wait_until(lambda: [
            event for event in checks.task_events(
                [self.taskmanager.log_path]) if event['task'] == 'guest'
            and event['subject'] in waiting], 120, 'a create at its guest')
        self.taskmanager.kill()
        left = [flow for flow in checks.unfinished_flows(self.database)
                if flow['subject'] in waiting]
        self.assertEqual(UNFINISHED, len(left))
        conductor.start()
        self.restart_taskmanager()
        restarted = time.monotonic()
        checks.wait_until(lambda: any(
            'Resuming %d unfinished flow(s).' % UNFINISHED in line
            for line in checks.read_log(self.taskmanager.log_path)), 30,
            'the restarted taskmanager resumes the flows')

        new_id, elapsed = self.timed_create(trove, 'new')
        made.append(new_id)
        checks.report('Create to ACTIVE: %.1f s on the idle deployment, '
                      '%.1f s beside %d resumed flows'
                      % (baseline, elapsed, UNFINISHED))
        self.assertLess(elapsed, 3 * baseline + 20)

        for instance_id in waiting:
            instance = checks.wait_for_instance(
                trove, instance_id, lambda i: i.status != 'BUILD', WAIT)
            self.assertEqual('ACTIVE', instance.status,
                             getattr(instance, 'fault', None))
            self.assertEqual(1, len(checks.servers_of(self.state,
                                                      instance_id)))
        checks.report('All %d resumed creates ACTIVE %.1f s after the '
                      'restart' % (UNFINISHED, time.monotonic() - restarted))
        self.assertNothingLeft(trove, 'restart-load', made)

"""What the taskmanager tests look at from outside: the flows saved in
the control database, the taskmanagers' logs, the local backend's
servers and volumes, the project's quota use, a private Redis for the
jobboard. Read-only except where a name says otherwise."""
import contextlib
import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import time

import fixtures
import sqlalchemy as sa
from troveclient import exceptions as trove_exc

from trove_clone.tests.functional import fixtures as trove_fixtures

#: A task's transition, as trove_clone.taskmanager.jobs.FlowLog logs it.
TASK_LINE = re.compile(r'Flow (?P<flow>\S+) \((?P<uuid>[0-9a-f-]+)\) of '
                       r'instance (?P<subject>\S+): task (?P<task>.+) -> '
                       r'(?P<state>[A-Z_]+)\s*$')
RESUME_LINE = re.compile(r'Resuming flow (?P<flow>\S+) \((?P<uuid>[0-9a-f-]+)'
                         r'\) of instance (?P<subject>\S+) after '
                         r'(?P<done>.+?)\s*$')
FINISHED = ('SUCCESS', 'REVERTED', 'FAILURE')


def wait_until(predicate, timeout: float, what: str, poll: float = 0.1):
    """``predicate()``'s first true value; AssertionError naming ``what``
    after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError('%s: not within %.0f s' % (what, timeout))
        time.sleep(poll)


def wait_for_instance(trove, instance_id: str, wanted, timeout: float):
    """The instance once ``wanted(instance)`` holds; AssertionError with
    its status and fault after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        instance = trove.instances.get(instance_id)
        if wanted(instance):
            return instance
        if time.monotonic() > deadline:
            raise AssertionError('Instance %s is %s after %.0f s: %s' % (
                instance_id, instance.status, timeout,
                getattr(instance, 'fault', None)))
        time.sleep(0.2)


def delete_all(trove, instance_ids, timeout: float = 180) -> None:
    """Delete the instances (all at once) and wait until every one is
    gone; AssertionError naming those left."""
    for instance_id in instance_ids:
        with contextlib.suppress(trove_exc.ClientException):
            trove.instances.delete(instance_id)
    left = set(instance_ids)
    deadline = time.monotonic() + timeout
    while left and time.monotonic() < deadline:
        for instance_id in list(left):
            try:
                instance = trove.instances.get(instance_id)
            except trove_exc.NotFound:
                left.discard(instance_id)
                continue
            if instance.status == 'ERROR':
                # A delete that failed may be asked again.
                with contextlib.suppress(trove_exc.ClientException):
                    trove.instances.delete(instance_id)
        time.sleep(0.3)
    if left:
        raise AssertionError('Not deleted within %.0f s: %s'
                             % (timeout, sorted(left)))


def report(text: str) -> None:
    """Figures a reviewer wants to see: to stderr, and appended to the
    file TROVE_CLONE_TEST_REPORT names, if any."""
    sys.stderr.write(text + '\n')
    path = os.environ.get('TROVE_CLONE_TEST_REPORT')
    if path:
        with open(path, 'a') as target:
            target.write(text + '\n')


def keep_logs(test, stack) -> None:
    """On a failure and at the test's cleanup, copy the logs of the
    deployment ``stack`` (its daemons', its servers') to the directory
    TROVE_CLONE_TEST_KEEP_LOGS names, if set, under the test's name: the
    deployment's own go with it."""
    target = os.environ.get('TROVE_CLONE_TEST_KEEP_LOGS')
    if not target:
        return

    def copy() -> None:
        where = os.path.join(target, test.id().rsplit('.', 1)[-1])
        os.makedirs(where, exist_ok=True)
        for name in os.listdir(stack.api.state):
            if name.endswith(('.log', '.out')):
                shutil.copy(os.path.join(stack.api.state, name), where)
        for server in servers(stack.state):
            top = os.path.join(stack.state, 'local', 'servers',
                               server['dir_name'])
            for directory, _dirs, names in os.walk(top):
                for name in names:
                    if name.endswith('.log'):
                        shutil.copy(os.path.join(directory, name),
                                    os.path.join(where, '%s-%s' % (
                                        server['dir_name'][:8], name)))
    # On a failure, before the cleanups delete the servers; and at the end.
    test.addOnException(lambda exc_info: copy())
    test.addCleanup(copy)


# --- the local backend -----------------------------------------------------

def _records(directory: str, record: str) -> list[dict]:
    found = []
    if not os.path.isdir(directory):
        return found
    for name in os.listdir(directory):
        try:
            with open(os.path.join(directory, name, record)) as source:
                found.append(dict(json.load(source), dir_name=name))
        except (FileNotFoundError, NotADirectoryError, ValueError):
            continue
    return found


def servers(state: str) -> list[dict]:
    """Every server record of the deployment's local backend."""
    return _records(os.path.join(state, 'local', 'servers'), 'server.json')


def servers_of(state: str, instance_id: str) -> list[str]:
    """The ids of the servers tagged with the instance."""
    return [server['dir_name'] for server in servers(state)
            if (server.get('metadata') or {}).get('trove_instance_id') ==
            instance_id]


def volumes(state: str) -> list[dict]:
    """Every volume record of the deployment's local backend."""
    return _records(os.path.join(state, 'local', 'volumes'), 'volume.json')


def volumes_of(state: str, instance_id: str) -> list[str]:
    """The ids of the volumes named after the instance."""
    return [volume['dir_name'] for volume in volumes(state)
            if volume.get('name') == 'trove-%s' % instance_id]


# --- quota ---------------------------------------------------------------

def usage(admin, project: str) -> dict:
    """The project's quota use (mgmt quotas, as an administrator):
    resource -> in_use."""
    return {quota.resource: quota.in_use
            for quota in admin.quota.show(project)}


# --- saved flows ---------------------------------------------------------

_ENGINES: dict = {}


def _engine(database_url: str) -> sa.engine.Engine:
    """One engine per control database for the test process's reads."""
    if database_url not in _ENGINES:
        _ENGINES[database_url] = sa.create_engine(database_url)
    return _ENGINES[database_url]


def flow_state(database_url: str, flow_uuid: str) -> str | None:
    """The state of one saved flow (None before it runs)."""
    with _engine(database_url).connect() as connection:
        return connection.execute(sa.text(
            'SELECT state FROM flowdetails WHERE uuid = :uuid'),
            {'uuid': flow_uuid}).scalar()


def flows_of(database_url: str, subject: str) -> list[dict]:
    """The saved flows of an instance: name, uuid, state, oldest first."""
    with _engine(database_url).connect() as connection:
        rows = connection.execute(sa.text(
            'SELECT f.name, f.uuid, f.state FROM flowdetails f JOIN '
            'logbooks l ON f.parent_uuid = l.uuid WHERE l.name = :name '
            'ORDER BY f.created_at'), {'name': subject})
        return [dict(row._mapping) for row in rows]


def unfinished_flows(database_url: str) -> list[dict]:
    """Every saved flow that has not finished: logbook name, flow name,
    state."""
    with _engine(database_url).connect() as connection:
        rows = connection.execute(sa.text(
            'SELECT l.name AS subject, f.name, f.state FROM flowdetails '
            'f JOIN logbooks l ON f.parent_uuid = l.uuid'))
        return [dict(row._mapping) for row in rows
                if row.state not in FINISHED]


def atom_states(database_url: str, flow_uuid: str) -> dict:
    """Task name -> state of one saved flow."""
    with _engine(database_url).connect() as connection:
        rows = connection.execute(sa.text(
            'SELECT name, state FROM atomdetails WHERE parent_uuid = '
            ':uuid'), {'uuid': flow_uuid})
        return {row.name: row.state for row in rows}


# --- logs ----------------------------------------------------------------

def read_log(path: str) -> list[str]:
    try:
        with open(path, errors='replace') as log:
            return log.read().splitlines()
    except FileNotFoundError:
        return []


class LogWatch:
    """The task transitions of growing logs, read incrementally (a log
    restarted by its daemon is appended to): ``events()`` reads what was
    written since the last call."""

    def __init__(self, paths) -> None:
        self.offsets = {path: 0 for path in paths}
        self.found: list[dict] = []

    def events(self, flow_uuid: str | None = None) -> list[dict]:
        for path, offset in self.offsets.items():
            try:
                with open(path, 'rb') as log:
                    log.seek(offset)
                    data = log.read()
            except FileNotFoundError:
                continue
            complete = data.rfind(b'\n') + 1
            self.offsets[path] = offset + complete
            for line in data[:complete].decode(
                    errors='replace').splitlines():
                match = TASK_LINE.search(line)
                if match:
                    self.found.append(dict(match.groupdict(), log=path))
        return [event for event in self.found
                if flow_uuid is None or event['uuid'] == flow_uuid]


def task_events(paths, flow_uuid: str | None = None,
                subject: str | None = None) -> list[dict]:
    """The task transitions the logs at ``paths`` show (each with the
    ``log`` it is in), of one flow or one instance."""
    events = []
    for path in paths:
        for line in read_log(path):
            match = TASK_LINE.search(line)
            if match is None:
                continue
            event = dict(match.groupdict(), log=path)
            if flow_uuid and event['uuid'] != flow_uuid:
                continue
            if subject and event['subject'] != subject:
                continue
            events.append(event)
    return events


def resumes(paths, subject: str | None = None) -> list[dict]:
    """The "Resuming flow ..." lines of the logs at ``paths``, each with
    the tasks it had done (``done``, a list) and its ``log``."""
    found = []
    for path in paths:
        for line in read_log(path):
            match = RESUME_LINE.search(line)
            if match is None:
                continue
            event = dict(match.groupdict(), log=path)
            event['done'] = [task.strip()
                             for task in event['done'].split(',')]
            if subject and event['subject'] != subject:
                continue
            found.append(event)
    return found


# --- a Redis of the test's own ---------------------------------------------

class PrivateRedis(fixtures.Fixture):
    """redis-server on a free loopback port with a password of its own,
    no persistence; ``port`` and ``password``; stopped by PID."""

    def _setUp(self) -> None:
        program = shutil.which('redis-server')
        if program is None:
            raise RuntimeError('redis-server is not installed (run '
                               'tools/install-services)')
        workdir = self.useFixture(fixtures.TempDir()).path
        self.port = trove_fixtures.free_port()
        self.password = secrets.token_hex(16)
        config = os.path.join(workdir, 'redis.conf')
        # The password in a file of its own (0600), not on a command line.
        with os.fdopen(os.open(config, os.O_WRONLY | os.O_CREAT, 0o600),
                       'w') as conf:
            conf.write('port %d\nbind 127.0.0.1\nrequirepass %s\nsave ""\n'
                       'appendonly no\ndir %s\n'
                       % (self.port, self.password, workdir))
        self.process = subprocess.Popen(
            [program, config], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        self.addCleanup(trove_fixtures.stop_process, self.process)
        trove_fixtures.wait_for_port(self.port, 15, self.process)

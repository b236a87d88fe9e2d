# Implementation of tools/trovestack (run that; it sets up the venv).
"""trovestack: a trove_clone deployment on this machine.

    tools/trovestack install                  install what is needed
    tools/trovestack kick-start [DATASTORE] [--version V]
                                              install, start, register
    tools/trovestack stop                     stop what kick-start started
    tools/trovestack int-tests [--group=G]    run the functional tests

kick-start installs what is missing (RabbitMQ, MariaDB, PostgreSQL, Redis,
the Keystone and Glance virtualenvs), starts Keystone (with a ``demo``
project and user) and Glance, writes trove.conf and an openrc, migrates the
control database and starts trove-api, trove-taskmanager and
trove-conductor on loopback. It then builds the guest image of DATASTORE
(mysql, mariadb, postgresql or redis), uploads it to Glance with the tags
``trove,DATASTORE`` and registers the datastore version with trove-manage,
so that instances can be created right away. Running it twice is safe: what
runs is left running and an image already in Glance is not built again.

Every process kick-start starts is recorded by PID under the state
directory and ``stop`` ends exactly those, with the local servers (guest
agents and their engines) the taskmanager started, by the PIDs their
records hold; the next kick-start's taskmanager restarts those servers.

Environment:

    TROVE_CLONE_STATE         state directory (~/.trove_clone/stack)
    TROVE_CLONE_API_PORT      trove-api port (8779)
    TROVE_CLONE_KEYSTONE_PORT Keystone port (5000)
    TROVE_CLONE_GLANCE_PORT   Glance port (9292)
    TROVE_CLONE_ADDRESS_POOL  loopback network of the instances
                              (127.77.0.0/20)
    TROVE_CLONE_TOPIC_SUFFIX  suffix of the RPC topics, for a deployment
                              next to another one on the same RabbitMQ
    TROVE_CLONE_LOCAL_STATE   [local] state_dir: servers and volumes
                              (STATE/local when the database users can
                              reach it and it is short enough for a
                              PostgreSQL socket path, otherwise a directory
                              under /var/lib/trove_clone, or /tmp when not
                              root)
"""
import argparse
import glob
import hashlib
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from glanceclient import client as glance_client
from glanceclient import exc as glance_exc
from keystoneauth1 import exceptions as ks_exc

from trove_clone.localstack import glance as glance_service
from trove_clone.localstack import keystone as keystone_service
from trove_clone.localstack import process as service_process

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), os.pardir))
BIN = os.path.dirname(sys.executable)
STATE = os.path.abspath(os.path.expanduser(os.environ.get(
    'TROVE_CLONE_STATE', '~/.trove_clone/stack')))
PIDS = os.path.join(STATE, 'pids')
LOGS = os.path.join(STATE, 'logs')
API_PORT = int(os.environ.get('TROVE_CLONE_API_PORT', '8779'))
KEYSTONE_PORT = int(os.environ.get('TROVE_CLONE_KEYSTONE_PORT', '5000'))
GLANCE_PORT = int(os.environ.get('TROVE_CLONE_GLANCE_PORT', '9292'))
# Below the pools the functional tests use (127.77.236.0 and up).
ADDRESS_POOL = os.environ.get('TROVE_CLONE_ADDRESS_POOL', '127.77.0.0/20')
TOPIC_SUFFIX = os.environ.get('TROVE_CLONE_TOPIC_SUFFIX', '')
GLANCE_URL = 'http://127.0.0.1:%d' % GLANCE_PORT
API_URL = 'http://127.0.0.1:%d' % API_PORT
TRANSPORT_URL = 'rabbit://guest:guest@127.0.0.1:5672/'
#: The longest [local] state_dir whose volumes can hold a PostgreSQL
#: socket: 107 bytes less len('/volumes/<uuid>/data/data/run/.s.PGSQL.5432').
LOCAL_STATE_MAX = 107 - 73
DAEMONS = ('trove-api', 'trove-taskmanager', 'trove-conductor')
DEMO = {'project': 'demo', 'username': 'demo', 'password': 'demo-password'}
#: datastore -> (engine of tools/build-guest-image, default version,
#: manager).
DATASTORES = {'mysql': ('mariadb', '10.11', 'mysql'),
              'mariadb': ('mariadb', '10.11', 'mariadb'),
              'postgresql': ('postgresql', '16', 'postgresql'),
              'redis': ('redis', '7.0', 'redis')}
#: How to reach an instance's database as the user created with --users.
CONNECT = {
    'mysql': 'mysql -h IP -u app -papp-password appdb',
    'mariadb': 'mariadb -h IP -u app -papp-password appdb',
    'postgresql': 'PGPASSWORD=app-password psql -h IP -U app appdb',
    'redis': 'redis-cli -h IP --user app --pass app-password'}


class StackError(RuntimeError):
    """kick-start cannot go on; the message says why."""


# --- processes --------------------------------------------------------------

def pid_alive(pid: int | None) -> bool:
    """Whether ``pid`` runs (a zombie, dead but not reaped, does not)."""
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open('/proc/%d/stat' % pid) as proc_stat:
            return proc_stat.read().rsplit(') ', 1)[-1][:1] != 'Z'
    except OSError:
        return True


def recorded_pid(name: str) -> int | None:
    """The PID recorded for ``name``, if any."""
    try:
        with open(os.path.join(PIDS, name)) as pid_file:
            return int(pid_file.read())
    except (OSError, ValueError):
        return None


def alive(name: str) -> bool:
    """Whether the process recorded as ``name`` still runs."""
    return pid_alive(recorded_pid(name))


def record(name: str, pid: int) -> None:
    """Record ``pid`` as the process ``name``."""
    os.makedirs(PIDS, exist_ok=True)
    with open(os.path.join(PIDS, name), 'w') as pid_file:
        pid_file.write(str(pid))


def stop_group(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``; SIGKILL it if it lingers."""
    try:
        os.killpg(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and pid_alive(pid):
        time.sleep(0.1)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def stop_recorded(name: str) -> None:
    """Stop the process recorded as ``name`` and forget it."""
    pid = recorded_pid(name)
    if pid:
        stop_group(pid)
    try:
        os.remove(os.path.join(PIDS, name))
    except FileNotFoundError:
        pass


def port_taken(port: int) -> bool:
    """Whether something listens on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(('127.0.0.1', port), 0.5):
            return True
    except OSError:
        return False


def check_port_free(port: int, what: str, variable: str) -> None:
    """Refuse to start ``what`` on a port another program holds."""
    if port_taken(port):
        raise StackError('127.0.0.1:%d is taken by another program: cannot '
                         'start %s there (choose another port with %s).'
                         % (port, what, variable))


def log_tail(path: str, size: int = 3000) -> str:
    """The end of a log file, or '' when there is none."""
    try:
        with open(path, errors='replace') as log:
            return log.read()[-size:]
    except OSError:
        return ''


# --- Keystone and Glance ----------------------------------------------------

def start_keystone() -> keystone_service.Keystone:
    """Keystone on KEYSTONE_PORT (started unless running), with the
    database service in its catalog and the demo project and user."""
    keystone = keystone_service.Keystone(os.path.join(STATE, 'keystone'),
                                         KEYSTONE_PORT)
    if alive('keystone'):
        print('keystone: running on %s' % keystone.url)
    else:
        check_port_free(KEYSTONE_PORT, 'Keystone',
                        'TROVE_CLONE_KEYSTONE_PORT')
        os.makedirs(keystone.state_dir, exist_ok=True)
        keystone.start()
        record('keystone', keystone.process.pid)
        print('keystone: started on %s (pid %d)'
              % (keystone.url, keystone.process.pid))
    client = keystone.admin_client()
    ensure_catalog(client, API_URL + '/v1.0/$(project_id)s')
    ensure_demo_user(client)
    return keystone


def ensure_catalog(client, url: str) -> None:
    """The ``database`` service with public, internal and admin endpoints
    at ``url`` (created, or moved to ``url``)."""
    services = client.services.list(type='database')
    service = services[0] if services else client.services.create(
        'trove', type='database')
    for interface in ('public', 'internal', 'admin'):
        endpoints = client.endpoints.list(service=service,
                                          interface=interface)
        if not endpoints:
            client.endpoints.create(service, url, interface=interface,
                                    region=keystone_service.REGION)
        elif endpoints[0].url != url:
            client.endpoints.update(endpoints[0], url=url)


def ensure_demo_user(client) -> None:
    """The demo project, and the demo user as its member."""
    projects = client.projects.list(domain='default', name=DEMO['project'])
    project = projects[0] if projects else client.projects.create(
        DEMO['project'], 'default')
    users = client.users.list(domain='default', name=DEMO['username'])
    if users:
        user = client.users.update(users[0], password=DEMO['password'],
                                   default_project=project)
    else:
        user = client.users.create(DEMO['username'], domain='default',
                                   password=DEMO['password'],
                                   default_project=project)
    roles = client.roles.list(name='member')
    role = roles[0] if roles else client.roles.create('member')
    client.roles.grant(role, user=user, project=project)


def start_glance() -> None:
    """Glance on GLANCE_PORT, unless it runs."""
    if alive('glance'):
        print('glance: running on %s' % GLANCE_URL)
        return
    check_port_free(GLANCE_PORT, 'Glance', 'TROVE_CLONE_GLANCE_PORT')
    glance = glance_service.Glance(os.path.join(STATE, 'glance'),
                                   GLANCE_PORT)
    os.makedirs(glance.state_dir, exist_ok=True)
    glance.start()
    record('glance', glance.process.pid)
    print('glance: started on %s (pid %d)'
          % (GLANCE_URL, glance.process.pid))


# --- configuration ----------------------------------------------------------

def searchable(path: str) -> bool:
    """Whether every user may traverse ``path`` and its parents."""
    path = os.path.abspath(path)
    while True:
        try:
            if not os.stat(path).st_mode & stat.S_IXOTH:
                return False
        except FileNotFoundError:
            pass
        parent = os.path.dirname(path)
        if parent == path:
            return True
        path = parent


def local_state_dir() -> str:
    """``[local] state_dir``: the servers, volumes and image cache.

    ``STATE/local`` unless it does not suit: run as root, the engines run as
    unprivileged OS users of their own servers, who must reach their data,
    and ``/root`` is closed to them; and PostgreSQL's socket, ``LOCAL/volumes/
    <id>/data/data/run/.s.PGSQL.5432``, must fit in 107 bytes. Then the
    local state goes under /var/lib/trove_clone (root) or the temporary
    directory.
    """
    configured = os.environ.get('TROVE_CLONE_LOCAL_STATE')
    if configured:
        return os.path.abspath(os.path.expanduser(configured))
    local = os.path.join(STATE, 'local')
    root = os.geteuid() == 0
    if len(local) <= LOCAL_STATE_MAX and (not root or searchable(STATE)):
        return local
    digest = hashlib.sha256(STATE.encode()).hexdigest()[:8]
    if root:
        return '/var/lib/trove_clone/%s' % digest
    return os.path.join(tempfile.gettempdir(), 'trove_clone-%s' % digest)


def conf_text(datastore: str) -> str:
    """trove.conf of this deployment, with ``datastore`` the default."""
    lines = [
        '[DEFAULT]',
        'auth_strategy = keystone',
        'bind_host = 127.0.0.1',
        'bind_port = %d' % API_PORT,
        'log_dir = %s' % LOGS,
        'transport_url = %s' % TRANSPORT_URL,
        # Instances carry the region of the Keystone catalog, as in
        # devstack.
        'region = %s' % keystone_service.REGION,
        'default_datastore = %s' % datastore]
    if TOPIC_SUFFIX:
        lines += ['taskmanager_queue = trove-taskmanager-%s' % TOPIC_SUFFIX,
                  'conductor_queue = trove-conductor-%s' % TOPIC_SUFFIX,
                  'guest_topic_prefix = guestagent-%s' % TOPIC_SUFFIX]
    lines += [
        '[database]',
        'connection = sqlite:///%s/trove.sqlite' % STATE,
        '[local]',
        'state_dir = %s' % local_state_dir(),
        'address_pool = %s' % ADDRESS_POOL,
        '[glance]',
        'endpoint = %s' % GLANCE_URL,
        '[keystone_authtoken]',
        'www_authenticate_uri = http://127.0.0.1:%d/v3' % KEYSTONE_PORT,
        'auth_url = http://127.0.0.1:%d/v3' % KEYSTONE_PORT,
        'auth_type = password',
        'username = admin',
        'password = %s' % keystone_service.ADMIN_PASSWORD,
        'project_name = admin',
        'user_domain_name = Default',
        'project_domain_name = Default',
        'region_name = %s' % keystone_service.REGION]
    return '\n'.join(lines) + '\n'


def write_conf(datastore: str) -> tuple[str, bool]:
    """Write trove.conf; returns its path and whether it changed."""
    path = os.path.join(STATE, 'trove.conf')
    text = conf_text(datastore)
    try:
        with open(path) as conf:
            changed = conf.read() != text
    except FileNotFoundError:
        changed = True
    with open(path, 'w') as conf:
        conf.write(text)
    os.makedirs(LOGS, exist_ok=True)
    return path, changed


def write_glance_manage() -> str:
    """``<state>/bin/glance-manage``: the Glance of this deployment's
    glance-manage with its configuration, so that seed 004's
    ``glance-manage db version`` (sync, upgrade, expand, migrate,
    contract) works as written; returns the directory."""
    directory = os.path.join(STATE, 'bin')
    os.makedirs(directory, exist_ok=True)
    path = os.path.join(directory, 'glance-manage')
    with open(path + '.new', 'w') as script:
        script.write('#!/bin/sh\n# glance-manage of the Glance trovestack '
                     'runs.\nexec %s --config-file %s "$@"\n' % (
                         service_process.venv_bin('glance', 'glance-manage'),
                         os.path.join(STATE, 'glance', 'glance-api.conf')))
    os.chmod(path + '.new', 0o755)
    os.replace(path + '.new', path)
    return directory


def write_openrc() -> str:
    """The openrc of the demo user (``source openrc admin``: admin); it
    puts this virtualenv's programs, and glance-manage, on the PATH."""
    path = os.path.join(STATE, 'openrc')
    glance_bin = write_glance_manage()
    with open(path, 'w') as openrc:
        openrc.write(
            '# source %(path)s        # the demo user\n'
            '# source %(path)s admin  # the admin user\n'
            'export OS_AUTH_URL=http://127.0.0.1:%(port)d/v3\n'
            'export OS_AUTH_TYPE=password OS_IDENTITY_API_VERSION=3\n'
            'export OS_REGION_NAME=%(region)s OS_INTERFACE=public\n'
            'export OS_USER_DOMAIN_NAME=Default '
            'OS_PROJECT_DOMAIN_NAME=Default\n'
            'unset OS_CLOUD OS_TOKEN OS_PROJECT_ID OS_TENANT_NAME\n'
            '# trove-manage without --config-file uses this deployment\'s\n'
            'export OS_TROVE_CONFIG_FILE=%(conf)s\n'
            '# trove, openstack, trove-manage and glance-manage of this '
            'deployment\n'
            'case ":$PATH:" in *":%(bin)s:"*) ;; '
            '*) export PATH="%(bin)s:$PATH" ;; esac\n'
            'case ":$PATH:" in *":%(glance_bin)s:"*) ;; '
            '*) export PATH="%(glance_bin)s:$PATH" ;; esac\n'
            'if [ "${1:-}" = admin ]; then\n'
            '  export OS_USERNAME=admin OS_PROJECT_NAME=admin '
            'OS_PASSWORD=%(admin)s\n'
            'else\n'
            '  export OS_USERNAME=%(user)s OS_PROJECT_NAME=%(project)s '
            'OS_PASSWORD=%(password)s\n'
            'fi\n'
            % {'path': path, 'port': KEYSTONE_PORT, 'bin': BIN,
               'glance_bin': glance_bin,
               'conf': os.path.join(STATE, 'trove.conf'),
               'region': keystone_service.REGION,
               'admin': keystone_service.ADMIN_PASSWORD,
               'user': DEMO['username'], 'project': DEMO['project'],
               'password': DEMO['password']})
    return path


# --- trove_clone daemons ----------------------------------------------------

def manage(conf: str, *args: str) -> str:
    """Run ``trove-manage --config-file CONF ARGS``; returns its output."""
    argv = [os.path.join(BIN, 'trove-manage'), '--config-file', conf]
    argv += list(args)
    result = subprocess.run(argv, capture_output=True, text=True,
                            timeout=300)
    if result.returncode:
        raise StackError('trove-manage %s failed (%d): %s' % (
            ' '.join(args), result.returncode,
            (result.stderr or result.stdout).strip()[-2000:]))
    return result.stdout.strip()


def start_daemons(conf: str, conf_changed: bool) -> None:
    """Migrate the control database, then start the daemons that do not
    run (all of them again when trove.conf changed)."""
    manage(conf, 'db_sync')
    running = [daemon for daemon in DAEMONS if alive(daemon)]
    if conf_changed and running:
        print('trove.conf changed: restarting %s' % ', '.join(running))
        for daemon in running:
            stop_recorded(daemon)
    for daemon in DAEMONS:
        if alive(daemon):
            print('%s: running (pid %d)' % (daemon, recorded_pid(daemon)))
            continue
        if daemon == 'trove-api':
            check_port_free(API_PORT, 'trove-api', 'TROVE_CLONE_API_PORT')
        log = open(os.path.join(LOGS, daemon + '.out'), 'ab')
        try:
            child = subprocess.Popen(
                [os.path.join(BIN, daemon), '--config-file', conf,
                 '--log-file', os.path.join(LOGS, daemon + '.log')],
                stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                start_new_session=True)
        finally:
            log.close()
        record(daemon, child.pid)
        print('%s: started (pid %d)' % (daemon, child.pid))
        if daemon == 'trove-api':
            wait_for_api(child)


def wait_for_api(child: subprocess.Popen, timeout: float = 60) -> None:
    """Wait until trove-api answers HTTP."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and child.poll() is None:
        try:
            urllib.request.urlopen(API_URL + '/', timeout=2).close()
            return
        except urllib.error.HTTPError:
            return
        except (urllib.error.URLError, OSError):
            time.sleep(0.2)
    raise StackError('trove-api does not answer on %s:\n%s' % (
        API_URL, log_tail(os.path.join(LOGS, 'trove-api.log'))
        or log_tail(os.path.join(LOGS, 'trove-api.out'))))


def ensure_flavor(conf: str) -> None:
    """Flavor 1, which the printed commands use, exists."""
    listing = manage(conf, 'flavor_list')
    ids = [line.split()[0] for line in listing.splitlines()[1:] if line]
    if '1' not in ids:
        manage(conf, 'flavor_create', '1', 'm1.tiny', '512', '1', '1')
        print('flavor 1 (m1.tiny): created')


# --- guest image and datastore ----------------------------------------------

def find_image(client, name: str, tags: list[str]) -> str | None:
    """The id of the active image ``name`` with ``tags``; images of that
    name and tags left unfinished by an interrupted upload are deleted."""
    found = None
    for image in client.images.list(filters={'name': name,
                                             'tag': list(tags)}):
        if image['status'] == 'active' and found is None:
            found = image['id']
        elif image['status'] in ('queued', 'saving', 'killed'):
            client.images.delete(image['id'])
    return found


def upload_image(datastore: str, version: str) -> str:
    """The Glance image of ``datastore`` ``version``: found, or built with
    tools/build-guest-image and uploaded; returns its id."""
    engine, default_version = DATASTORES[datastore][:2]
    if datastore == 'mysql' and version != default_version:
        # Other mysql version names also run on this machine's MariaDB.
        engine = 'mysql'
    name = 'trove-guest-%s-%s' % (datastore, version)
    tags = ['trove', datastore]
    client = glance_client.Client('2', endpoint=GLANCE_URL,
                                  token='trovestack')
    image_id = find_image(client, name, tags)
    if image_id:
        print('image %s: in Glance (%s)' % (name, image_id))
        return image_id
    output = os.path.join(STATE, 'images')
    result = subprocess.run(
        [sys.executable, os.path.join(ROOT, 'tools', 'build-guest-image'),
         engine, version, '--output', output],
        capture_output=True, text=True, timeout=1800)
    if result.returncode:
        raise StackError('tools/build-guest-image %s %s failed: %s' % (
            engine, version, result.stderr.strip()))
    print('built %s' % result.stdout.strip())
    path = os.path.join(output, '%s-%s.tar.gz' % (engine, version))
    image = client.images.create(name=name, visibility='private',
                                 disk_format='qcow2',
                                 container_format='bare', tags=tags)
    with open(path, 'rb') as data:
        client.images.upload(image['id'], data)
    print('image %s: uploaded to Glance (%s)' % (name, image['id']))
    return image['id']


def register_datastore(conf: str, datastore: str, version: str,
                       image_id: str) -> None:
    """Register ``datastore`` ``version`` on ``image_id`` as the default
    version, as the Trove guides do, with its configuration rules."""
    manager = DATASTORES[datastore][2]
    manage(conf, 'datastore_update', datastore, '')
    print(manage(conf, 'datastore_version_update', datastore, version,
                 manager, image_id, '', '1'))
    print(manage(conf, 'datastore_update', datastore, version))
    rules = os.path.join(ROOT, 'trove_clone', 'templates', datastore,
                         'validation-rules.json')
    if os.path.exists(rules):
        print(manage(conf, 'db_load_datastore_config_parameters',
                     datastore, version, rules))


# --- commands ---------------------------------------------------------------

def install_env() -> dict:
    """The environment of the install scripts: PYTHON only when it names
    an interpreter (coverage runs set it to a command line)."""
    env = dict(os.environ)
    if 'PYTHON' in env and not shutil.which(env['PYTHON']):
        del env['PYTHON']
    return env


def usage_text(datastore: str, version: str, conf: str, openrc: str) -> str:
    """What to type next."""
    databases = '' if datastore == 'redis' else ' --databases appdb'
    return (
        '\ntrove_clone is up with %(ds)s %(v)s as the default datastore.\n'
        'Configuration %(conf)s, logs in %(logs)s,\n'
        'servers and volumes in %(local)s.\n\n'
        'Create an instance and connect to it:\n\n'
        '  source %(openrc)s\n'
        '  openstack database instance create db1 --flavor 1 --size 1 '
        '--datastore %(ds)s --datastore-version %(v)s%(dbs)s '
        '--users app:app-password\n'
        '  openstack database instance show db1   # until ACTIVE; '
        'its ip is IP\n'
        '  %(connect)s\n\n'
        'Then: openstack database instance delete db1; '
        'tools/trovestack stop.\n'
        % {'ds': datastore, 'v': version, 'conf': conf, 'logs': LOGS,
           'openrc': openrc, 'dbs': databases, 'local': local_state_dir(),
           'connect': CONNECT[datastore]})


def kick_start(datastore: str, version: str | None) -> int:
    """Install, start and register everything for ``datastore``."""
    if datastore not in DATASTORES:
        raise StackError('unknown datastore %s (one of %s)' % (
            datastore, ', '.join(sorted(DATASTORES))))
    version = version or DATASTORES[datastore][1]
    install_missing()
    os.makedirs(STATE, exist_ok=True)
    start_keystone()
    start_glance()
    conf, changed = write_conf(datastore)
    os.makedirs(local_state_dir(), exist_ok=True)
    start_daemons(conf, changed)
    ensure_flavor(conf)
    image_id = upload_image(datastore, version)
    register_datastore(conf, datastore, version, image_id)
    openrc = write_openrc()
    print(usage_text(datastore, version, conf, openrc))
    return 0


def local_servers() -> list[tuple[str, int]]:
    """(server id, pid) of the local servers that run."""
    try:
        with open(os.path.join(STATE, 'trove.conf')) as conf:
            lines = conf.read().splitlines()
    except FileNotFoundError:
        return []
    roots = [line.split('=', 1)[1].strip() for line in lines
             if line.replace(' ', '').startswith('state_dir=')]
    servers = []
    for root in roots:
        pattern = os.path.join(root, 'servers', '*', 'server.json')
        for path in sorted(glob.glob(pattern)):
            try:
                with open(path) as server_record:
                    pid = json.load(server_record).get('pid')
            except (OSError, ValueError):
                continue
            if pid_alive(pid):
                servers.append((os.path.basename(os.path.dirname(path)),
                                pid))
    return servers


def stop() -> int:
    """Stop the trove_clone daemons, then the local servers, then Keystone
    and Glance."""
    names = sorted(os.listdir(PIDS)) if os.path.isdir(PIDS) else []
    services = [name for name in names if name in ('keystone', 'glance')]
    servers = local_servers()
    if not names and not servers:
        print('nothing to stop')
        return 0
    for name in [name for name in names if name not in services]:
        stop_and_report(name)
    for server_id, pid in servers:
        stop_group(pid)
        print('server %s: stopped (pid %d)' % (server_id, pid))
    for name in services:
        stop_and_report(name)
    return 0


def stop_and_report(name: str) -> None:
    """Stop the process recorded as ``name`` and say so."""
    running = alive(name)
    stop_recorded(name)
    print('%s: %s' % (name, 'stopped' if running else 'was not running'))


#: Trove's int-test groups, as regular expressions over our tests.
GROUPS = {
    'mysql_supported': r'(?i)mysql|mariadb',
    'mariadb_supported': r'(?i)mariadb',
    'postgresql_supported': r'(?i)postgresql',
    'redis_supported': r'(?i)redis',
    'module': r'test_modules',
    'configuration': r'test_configurations',
    'instance_upgrade': r'test_upgrade',
}


def install_missing() -> None:
    """Install the services and the Keystone and Glance virtualenvs that
    are missing (the wrapper installed this checkout already)."""
    for script in ('install-services', 'install-openstack-services'):
        subprocess.run([os.path.join(ROOT, 'tools', script)], check=True,
                       env=install_env())


def install() -> int:
    """Install what a deployment needs, start nothing."""
    install_missing()
    print('trovestack: installed (services, the Keystone and Glance '
          'virtualenvs, trove_clone in %s).\nNext: tools/trovestack '
          'kick-start [mysql|mariadb|postgresql|redis]' % sys.prefix)
    return 0


def int_tests(group: str | None) -> int:
    """Run the functional tests (those matching ``group``, a regular
    expression or one of Trove's group names) with stestr."""
    base = [sys.executable, '-m', 'stestr', '--test-path',
            './trove_clone/tests/functional']
    pattern = GROUPS.get(group, group) if group else None
    if pattern:
        listed = subprocess.run(base + ['list', pattern], cwd=ROOT,
                                capture_output=True, text=True)
        if not listed.stdout.strip():
            raise StackError(
                'no functional test is in group %r (%s is not built '
                'here); groups: %s, or a regular expression' % (
                    group, group, ', '.join(sorted(GROUPS))))
    argv = base + ['run', '--concurrency', '2']
    if pattern:
        argv.append(pattern)
    return subprocess.run(argv, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(prog='trovestack',
                                     description=__doc__.split('\n')[0])
    commands = parser.add_subparsers(dest='command', required=True)
    kick = commands.add_parser(
        'kick-start', help='install, start and register a datastore')
    kick.add_argument('datastore', nargs='?', default='mysql',
                      choices=sorted(DATASTORES))
    kick.add_argument('--version', default=None,
                      help='the datastore version (default: mysql and '
                           'mariadb 10.11, postgresql 16, redis 7.0)')
    commands.add_parser('install', help='install what is needed, start '
                        'nothing')
    commands.add_parser('stop', help='stop what kick-start started')
    tests = commands.add_parser('int-tests', help='run the functional tests')
    tests.add_argument('--group', default=None,
                       help="a regular expression selecting tests, or one "
                            "of Trove's groups: %s" % ', '.join(
                                sorted(GROUPS)))
    args = parser.parse_args(argv)
    try:
        if args.command == 'kick-start':
            return kick_start(args.datastore, args.version)
        if args.command == 'stop':
            return stop()
        if args.command == 'install':
            return install()
        return int_tests(args.group)
    except (StackError, service_process.ServiceError,
            subprocess.CalledProcessError, glance_exc.BaseException,
            ks_exc.ClientException) as error:
        print('trovestack: %s' % error, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

# Implementation of tools/trovestack (run that; it sets up the venv).
"""trovestack: a trove_clone deployment on this machine.

    tools/trovestack kick-start [DATASTORE]   install and start everything
    tools/trovestack stop                     stop what kick-start started
    tools/trovestack int-tests [--group=RE]   run the functional tests

kick-start installs what is missing (RabbitMQ, MariaDB, PostgreSQL, Redis,
the Keystone and Glance virtualenvs), starts Keystone, Glance and the
trove_clone daemons on loopback, migrates the control database and writes
an openrc. Running it twice is safe: what runs is left running. Every
process it starts is recorded by PID under the state directory
(TROVE_CLONE_STATE, default ~/.trove_clone/stack) and `stop` ends exactly
those.
"""
import argparse
import os
import signal
import subprocess
import sys
import time

from trove_clone.localstack import glance as glance_service
from trove_clone.localstack import keystone as keystone_service

ROOT = os.path.normpath(os.path.join(os.path.dirname(
    os.path.abspath(__file__)), os.pardir))
BIN = os.path.dirname(sys.executable)
STATE = os.path.expanduser(os.environ.get('TROVE_CLONE_STATE',
                                          '~/.trove_clone/stack'))
PIDS = os.path.join(STATE, 'pids')
API_PORT, KEYSTONE_PORT, GLANCE_PORT = 8779, 5000, 9292
DAEMONS = ('trove-api', 'trove-taskmanager', 'trove-conductor')


def alive(name: str) -> bool:
    try:
        with open(os.path.join(PIDS, name)) as pid_file:
            os.kill(int(pid_file.read()), 0)
        return True
    except (OSError, ValueError):
        return False


def record(name: str, pid: int) -> None:
    os.makedirs(PIDS, exist_ok=True)
    with open(os.path.join(PIDS, name), 'w') as pid_file:
        pid_file.write(str(pid))


def start_openstack_services() -> None:
    if not alive('keystone'):
        keystone = keystone_service.Keystone(
            os.path.join(STATE, 'keystone'), KEYSTONE_PORT)
        os.makedirs(keystone.state_dir, exist_ok=True)
        keystone.start()
        record('keystone', keystone.process.pid)
        keystone.register_service(
            'database', 'trove',
            'http://127.0.0.1:%d/v1.0/$(project_id)s' % API_PORT)
        keystone.create_project_user('demo', 'demo', 'demo-password')
        print('keystone: started on http://127.0.0.1:%d/v3' % KEYSTONE_PORT)
    if not alive('glance'):
        glance = glance_service.Glance(os.path.join(STATE, 'glance'),
                                       GLANCE_PORT)
        os.makedirs(glance.state_dir, exist_ok=True)
        glance.start()
        record('glance', glance.process.pid)
        print('glance: started on http://127.0.0.1:%d' % GLANCE_PORT)


def write_conf() -> str:
    path = os.path.join(STATE, 'trove.conf')
    with open(path, 'w') as conf:
        conf.write(
            '[DEFAULT]\nauth_strategy = keystone\nbind_host = 127.0.0.1\n'
            'bind_port = %(api)d\nlog_dir = %(state)s/logs\n'
            'transport_url = rabbit://guest:guest@127.0.0.1:5672/\n'
            '[database]\nconnection = sqlite:///%(state)s/trove.sqlite\n'
            '[glance]\nendpoint = http://127.0.0.1:%(glance)d\n'
            '[keystone_authtoken]\n'
            'www_authenticate_uri = http://127.0.0.1:%(ks)d/v3\n'
            'auth_url = http://127.0.0.1:%(ks)d/v3\nauth_type = password\n'
            'username = admin\npassword = %(password)s\n'
            'project_name = admin\nuser_domain_name = Default\n'
            'project_domain_name = Default\nregion_name = RegionOne\n'
            % {'api': API_PORT, 'state': STATE, 'glance': GLANCE_PORT,
               'ks': KEYSTONE_PORT,
               'password': keystone_service.ADMIN_PASSWORD})
    os.makedirs(os.path.join(STATE, 'logs'), exist_ok=True)
    return path


def write_openrc() -> str:
    path = os.path.join(STATE, 'openrc')
    with open(path, 'w') as openrc:
        openrc.write(
            '# source %s [admin]\n'
            'export OS_AUTH_URL=http://127.0.0.1:%d/v3\n'
            'export OS_IDENTITY_API_VERSION=3 OS_REGION_NAME=RegionOne\n'
            'export OS_USER_DOMAIN_NAME=Default '
            'OS_PROJECT_DOMAIN_NAME=Default\n'
            'if [ "$1" = admin ]; then\n'
            '  export OS_USERNAME=admin OS_PROJECT_NAME=admin '
            'OS_PASSWORD=%s\n'
            'else\n'
            '  export OS_USERNAME=demo OS_PROJECT_NAME=demo '
            'OS_PASSWORD=demo-password\n'
            'fi\n' % (path, KEYSTONE_PORT, keystone_service.ADMIN_PASSWORD))
    return path


def start_daemons(conf: str) -> None:
    subprocess.run([os.path.join(BIN, 'trove-manage'), '--config-file',
                    conf, 'db_sync'], check=True)
    for daemon in DAEMONS:
        if alive(daemon):
            print('%s: running' % daemon)
            continue
        log = open(os.path.join(STATE, 'logs', daemon + '.out'), 'ab')
        child = subprocess.Popen([os.path.join(BIN, daemon),
                                  '--config-file', conf], stdout=log,
                                 stderr=log, start_new_session=True)
        record(daemon, child.pid)
        print('%s: started (pid %d)' % (daemon, child.pid))


def kick_start(datastore: str) -> int:
    for script in ('install-services', 'install-openstack-services'):
        subprocess.run([os.path.join(ROOT, 'tools', script)], check=True)
    os.makedirs(STATE, exist_ok=True)
    start_openstack_services()
    conf = write_conf()
    start_daemons(conf)
    openrc = write_openrc()
    print('\ntrove_clone is up. Configuration: %s\n'
          '  source %s          # the demo user (source ... admin: admin)\n'
          '  trove datastore-list\n'
          '  openstack datastore version list %s\n'
          'Guest images for %s are built and registered by the cloud-driver '
          'work (tools/build-guest-image); until then register versions '
          'with trove-manage as doc/install.md shows.'
          % (conf, openrc, datastore, datastore))
    return 0


def stop() -> int:
    if not os.path.isdir(PIDS):
        print('nothing to stop')
        return 0
    for name in sorted(os.listdir(PIDS)):
        path = os.path.join(PIDS, name)
        with open(path) as pid_file:
            pid = int(pid_file.read())
        try:
            os.killpg(pid, signal.SIGTERM)
            for _ in range(100):
                os.kill(pid, 0)
                time.sleep(0.1)
            os.killpg(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.remove(path)
        print('%s: stopped' % name)
    return 0


def int_tests(group: str | None) -> int:
    argv = [os.path.join(BIN, 'stestr'), 'run', '--test-path',
            './trove_clone/tests/functional', '--concurrency', '2']
    if group:
        argv.append(group)
    return subprocess.run(argv, cwd=ROOT).returncode


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="trovestack",
                                     description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest='command', required=True)
    kick = commands.add_parser('kick-start')
    kick.add_argument('datastore', nargs='?', default='mysql')
    commands.add_parser('stop')
    tests = commands.add_parser('int-tests')
    tests.add_argument('--group', default=None)
    args = parser.parse_args(argv)
    if args.command == 'kick-start':
        return kick_start(args.datastore)
    if args.command == 'stop':
        return stop()
    return int_tests(args.group)


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

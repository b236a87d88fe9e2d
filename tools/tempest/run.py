#!/usr/bin/env python3
"""Run Trove's tempest plugin against the running trovestack deployment.

    tools/tempest/run.py [--datastore mysql|mariadb|postgresql]
                         [--concurrency N] [--regex R] [--list]

(``tox -e tempest -- ARGS`` and ``tools/trovestack int-tests
--group=tempest`` run this.) It

1. installs tempest and trove-tempest-plugin, pinned in
   ``tools/tempest/requirements.txt``, into a virtualenv of their own,
   ``STATE/tempest/venv`` (once; again when the pins change);
2. reads the deployment: Keystone's URL and region from ``STATE/openrc``,
   the admin's password from ``STATE/credentials``, then, as that admin,
   the datastores, their versions and images and the flavors from the
   running trove-api;
3. writes ``STATE/tempest/etc/tempest.conf`` (0600: it holds the admin's
   password) for that deployment: dynamic credentials made by the admin,
   no Neutron (a fixed network id that looks like a UUID), no Nova,
   Cinder or Swift, and the plugin's ``[database]`` section;
4. runs the plugin's tests of one datastore, less those in
   ``tools/tempest/exclude.txt``, with ``tempest run``;
5. prints ``N passed, N failed, N skipped`` and exits 1 when a test
   failed or none ran.

STATE is TROVE_CLONE_STATE (``~/.trove_clone/stack``), as for trovestack:
kick-start the datastore first (``tools/trovestack kick-start mysql``).
"""
import argparse
import configparser
import csv
import dataclasses
import hashlib
import io
import os
import re
import shlex
import shutil
import subprocess
import sys
import uuid

from keystoneauth1 import exceptions as ks_exc
from keystoneauth1.identity import v3
from keystoneauth1 import session as ks_session

from trove_clone.common import secrets as trove_secrets

HERE = os.path.dirname(os.path.abspath(__file__))
REQUIREMENTS = os.path.join(HERE, 'requirements.txt')
EXCLUDE = os.path.join(HERE, 'exclude.txt')
#: The datastores the plugin tests, by the suffix of its test classes.
CLASS_SUFFIX = {'mysql': 'MySQL', 'mariadb': 'MariaDB',
                'postgresql': 'PostgreSQL'}
#: ``[database] shared_network``: the plugin looks a network up in Neutron
#: unless it is given one that looks like a UUID; trove_clone's local
#: compute driver ignores it.
NETWORK_ID = str(uuid.uuid5(uuid.NAMESPACE_URL,
                            'trove_clone:local-network'))
#: Seconds the plugin waits for an instance (the local driver builds one in
#: well under a minute), a restore and a backup.
BUILD_TIMEOUT = 600
BACKUP_TIMEOUT = 600


class RunError(RuntimeError):
    """The run cannot start; the message says what to do."""


@dataclasses.dataclass(frozen=True)
class Datastore:
    """A datastore of the deployment: its default version's name, the
    names of its other active versions and the default version's image."""
    name: str
    default_version: str
    other_versions: tuple[str, ...] = ()
    image_id: str = ''


@dataclasses.dataclass(frozen=True)
class Deployment:
    """What tempest.conf says about the deployment under test."""
    auth_url: str
    region: str
    admin_password: str
    datastores: dict[str, Datastore]
    flavor_id: str
    resize_flavor_id: str


def state_dir() -> str:
    """trovestack's state directory (TROVE_CLONE_STATE)."""
    return os.path.abspath(os.path.expanduser(os.environ.get(
        'TROVE_CLONE_STATE', '~/.trove_clone/stack')))


def read_variables(path: str) -> dict[str, str]:
    """The ``NAME=value`` assignments of a shell file (``export`` lines
    of an openrc, lines of trovestack's credentials file)."""
    found: dict[str, str] = {}
    with open(path) as source:
        for line in source:
            words = shlex.split(line, comments=True)
            if words[:1] == ['export']:
                words = words[1:]
            for word in words:
                name, equals, value = word.partition('=')
                if equals and re.fullmatch(r'[A-Z_][A-Z0-9_]*', name):
                    found[name] = value
    return found


def read_access(state: str) -> tuple[str, str, str]:
    """(Keystone URL, region, admin password) of the deployment in
    ``state``; raises RunError when it has none."""
    try:
        openrc = read_variables(os.path.join(state, 'openrc'))
        passwords = read_variables(os.path.join(state, 'credentials'))
    except FileNotFoundError as error:
        raise RunError('%s is missing: no trovestack deployment in %s (run '
                       'tools/trovestack kick-start first, with the same '
                       'TROVE_CLONE_STATE).' % (error.filename, state))
    try:
        return (openrc['OS_AUTH_URL'], openrc.get('OS_REGION_NAME',
                                                  'RegionOne'),
                passwords['KEYSTONE_ADMIN_PASSWORD'])
    except KeyError as error:
        raise RunError('%s is not in %s: run tools/trovestack kick-start '
                       'again.' % (error, state))


def parse_datastores(listing: list[dict]) -> dict[str, Datastore]:
    """The datastores of a ``GET /datastores`` answer that have a default
    version, by name."""
    found = {}
    for datastore in listing:
        versions = [version for version in datastore.get('versions', [])
                    if version.get('active', True)]
        default = [version for version in versions
                   if version['id'] == datastore.get('default_version')]
        if not default:
            continue
        found[datastore['name']] = Datastore(
            name=datastore['name'], default_version=default[0]['name'],
            other_versions=tuple(sorted(
                version['name'] for version in versions
                if version is not default[0])),
            image_id=default[0].get('image') or '')
    return found


def choose_flavors(listing: list[dict]) -> tuple[str, str]:
    """(flavor to create with, a larger one to resize to) from a ``GET
    /flavors`` answer: the smallest with at least 512 MB, and the next
    larger one (the same one when there is none)."""
    flavors = sorted(listing, key=lambda flavor: (flavor['ram'],
                                                  str(flavor['id'])))
    usable = [flavor for flavor in flavors if flavor['ram'] >= 512]
    if not usable:
        raise RunError('the deployment has no flavor of 512 MB or more '
                       '(trovestack kick-start creates flavor 1).')
    larger = [flavor for flavor in usable if flavor['ram'] > usable[0]['ram']]
    flavor_id = str(usable[0].get('str_id', usable[0]['id']))
    resize = larger[0] if larger else usable[0]
    return flavor_id, str(resize.get('str_id', resize['id']))


def discover(state: str) -> Deployment:
    """Read the deployment in ``state``, asking its trove-api as the
    Keystone admin; raises RunError when it does not answer."""
    auth_url, region, admin_password = read_access(state)
    auth = v3.Password(auth_url=auth_url, username='admin',
                       password=admin_password, project_name='admin',
                       user_domain_name='Default',
                       project_domain_name='Default')
    session = ks_session.Session(auth=auth)
    endpoint = {'service_type': 'database', 'interface': 'public',
                'region_name': region}
    try:
        datastores = session.get('/datastores', endpoint_filter=endpoint,
                                 timeout=30).json()['datastores']
        flavors = session.get('/flavors', endpoint_filter=endpoint,
                              timeout=30).json()['flavors']
    except ks_exc.ClientException as error:
        raise RunError('the deployment in %s does not answer (%s): start '
                       'it with tools/trovestack kick-start.' % (state,
                                                                 error))
    flavor_id, resize_flavor_id = choose_flavors(flavors)
    return Deployment(auth_url=auth_url, region=region,
                      admin_password=admin_password,
                      datastores=parse_datastores(datastores),
                      flavor_id=flavor_id, resize_flavor_id=resize_flavor_id)


def tempest_conf(deployment: Deployment, datastore: str,
                 workspace: str) -> str:
    """tempest.conf for running the plugin's ``datastore`` tests against
    ``deployment`` from ``workspace``.

    Every datastore the plugin knows that the deployment has is enabled
    with its default version; ``datastore`` must be one of them (else
    RunError). A datastore with a second version gets it as its
    pre-upgrade version, so the upgrade test runs; the rebuild test
    rebuilds ``datastore``'s instance on its own image.
    """
    if datastore not in deployment.datastores:
        raise RunError('the deployment has no %s datastore with a default '
                       'version: run tools/trovestack kick-start %s first.'
                       % (datastore, datastore))
    enabled = [deployment.datastores[name] for name in sorted(CLASS_SUFFIX)
               if name in deployment.datastores]
    conf = configparser.ConfigParser(interpolation=None)
    conf.read_dict({
        'DEFAULT': {'debug': 'true',
                    'log_dir': os.path.join(workspace, 'logs'),
                    'log_file': 'tempest.log'},
        'oslo_concurrency': {'lock_path': os.path.join(workspace, 'locks')},
        'auth': {'use_dynamic_credentials': 'true',
                 'create_isolated_networks': 'false',
                 'admin_username': 'admin',
                 'admin_password': deployment.admin_password,
                 'admin_project_name': 'admin',
                 'admin_domain_name': 'Default'},
        'identity': {'uri_v3': deployment.auth_url,
                     'auth_version': 'v3',
                     'region': deployment.region,
                     'v3_endpoint_type': 'public'},
        'service_available': {'trove': 'true', 'neutron': 'false',
                              'nova': 'false', 'cinder': 'false',
                              'swift': 'false', 'glance': 'false'},
        'validation': {'run_validation': 'false'},
        'database': database_section(deployment, datastore, enabled)})
    text = io.StringIO()
    conf.write(text)
    return text.getvalue()


def write_tempest_conf(deployment: Deployment, datastore: str,
                       workspace: str) -> str:
    """Write ``workspace``/etc/tempest.conf (tempest_conf), mode 0600 as
    it holds the admin's password, and make the log and lock
    directories it names; returns its path."""
    for directory in ('etc', 'logs', 'locks'):
        os.makedirs(os.path.join(workspace, directory), exist_ok=True)
    path = os.path.join(workspace, 'etc', 'tempest.conf')
    trove_secrets.write_private_file(
        path, tempest_conf(deployment, datastore, workspace))
    return path


def database_section(deployment: Deployment, datastore: str,
                     enabled: list[Datastore]) -> dict[str, str]:
    """The plugin's ``[database]`` options (trove_tempest_plugin/
    config.py)."""
    upgrades = ['%s:%s' % (item.name, item.other_versions[0])
                for item in enabled if item.other_versions]
    return {
        'catalog_type': 'database',
        'endpoint_type': 'publicURL',
        'enabled_datastores': ','.join(item.name for item in enabled),
        'default_datastore_versions': ','.join(
            '%s:%s' % (item.name, item.default_version) for item in enabled),
        'pre_upgrade_datastore_versions': ','.join(upgrades),
        'flavor_id': deployment.flavor_id,
        'resize_flavor_id': deployment.resize_flavor_id,
        'shared_network': NETWORK_ID,
        'database_build_timeout': str(BUILD_TIMEOUT),
        'database_restore_timeout': str(BUILD_TIMEOUT),
        'backup_wait_timeout': str(BACKUP_TIMEOUT),
        'rebuild_image_id': deployment.datastores[datastore].image_id,
        'remove_swift_account': 'false',
        'run_full_tests': 'false'}


def test_regex(datastore: str) -> str:
    """The ids of the plugin's tests of ``datastore`` (its test classes
    end with the datastore's name)."""
    return r'^trove_tempest_plugin\.tests\.\S+%s\.test_' % (
        CLASS_SUFFIX[datastore])


def ensure_venv(venv: str) -> str:
    """The virtualenv ``venv`` with the pinned requirements (installed
    when missing or when the pins changed); returns its bin directory."""
    with open(REQUIREMENTS, 'rb') as pins:
        digest = hashlib.sha256(pins.read()).hexdigest()
    marker = os.path.join(venv, 'requirements.sha256')
    bin_dir = os.path.join(venv, 'bin')
    try:
        with open(marker) as installed:
            if installed.read().strip() == digest:
                return bin_dir
    except FileNotFoundError:
        pass
    print('tempest: installing %s into %s' % (REQUIREMENTS, venv),
          flush=True)
    subprocess.run([sys.executable, '-m', 'venv', venv], check=True)
    subprocess.run([os.path.join(bin_dir, 'pip'), 'install', '--quiet',
                    '-r', REQUIREMENTS], check=True)
    with open(marker, 'w') as installed:
        installed.write(digest + '\n')
    return bin_dir


def count_results(rows: str) -> dict[str, list[str]]:
    """Test ids by outcome (passed, failed, skipped) from subunit2csv's
    output. Any status but success, xfail and skip is a failure (a test
    that did not finish too); a class whose setup failed counts as one
    failure, ``setUpClass (module.Class)``."""
    outcomes: dict[str, list[str]] = {'passed': [], 'failed': [],
                                      'skipped': []}
    kinds = {'success': 'passed', 'xfail': 'passed', 'skip': 'skipped'}
    for row in csv.DictReader(io.StringIO(rows)):
        outcomes[kinds.get(row['status'], 'failed')].append(row['test'])
    return outcomes


def run(datastore: str, concurrency: int, regex: str | None,
        list_only: bool) -> int:
    """Steps 1 to 5 of the module docstring; returns the exit code."""
    state = state_dir()
    workspace = os.path.join(state, 'tempest')
    deployment = discover(state)
    conf_path = write_tempest_conf(deployment, datastore, workspace)
    bin_dir = ensure_venv(os.path.join(workspace, 'venv'))
    # A fresh stestr repository: the results read below are this run's,
    # never an earlier one's when this one could not start.
    shutil.rmtree(os.path.join(workspace, '.stestr'), ignore_errors=True)
    subprocess.run([os.path.join(bin_dir, 'stestr'), 'init'], cwd=workspace,
                   check=True, stdout=subprocess.DEVNULL)
    argv = [os.path.join(bin_dir, 'tempest'), 'run', '--config-file',
            conf_path, '--regex', regex or test_regex(datastore),
            '--exclude-list', EXCLUDE]
    if list_only:
        return subprocess.run(argv + ['--list-tests'],
                              cwd=workspace).returncode
    print('tempest: %s tests against %s (%s)' % (
        datastore, deployment.auth_url, conf_path), flush=True)
    returncode = subprocess.run(argv + ['--concurrency', str(concurrency)],
                                cwd=workspace).returncode
    outcomes = read_results(bin_dir, workspace)
    for test_id in outcomes['failed']:
        print('FAILED %s' % test_id)
    print('%d passed, %d failed, %d skipped' % (
        len(outcomes['passed']), len(outcomes['failed']),
        len(outcomes['skipped'])))
    if outcomes['failed'] or not outcomes['passed']:
        return 1
    return 1 if returncode else 0


def read_results(bin_dir: str, workspace: str) -> dict[str, list[str]]:
    """count_results of the last run in ``workspace``'s stestr
    repository (none when it holds no run)."""
    stream = subprocess.run([os.path.join(bin_dir, 'stestr'), 'last',
                             '--subunit'], cwd=workspace,
                            capture_output=True)
    rows = subprocess.run([os.path.join(bin_dir, 'subunit2csv')],
                          input=stream.stdout, capture_output=True)
    return count_results(rows.stdout.decode(errors='replace'))


def main(argv: list[str]) -> int:
    """The command line."""
    parser = argparse.ArgumentParser(
        prog='tools/tempest/run.py', description=__doc__.split('\n')[0])
    parser.add_argument('--datastore', default='mysql',
                        choices=sorted(CLASS_SUFFIX),
                        help='the datastore whose tests run (default: '
                             'mysql)')
    parser.add_argument('--concurrency', type=int, default=1,
                        help='test classes run at once (default: 1; each '
                             'creates an instance)')
    parser.add_argument('--regex', default=None,
                        help='run the tests matching this instead')
    parser.add_argument('--list', action='store_true',
                        help='list the tests that would run')
    args = parser.parse_args(argv)
    try:
        return run(args.datastore, args.concurrency, args.regex, args.list)
    except RunError as error:
        print('tempest: %s' % error, file=sys.stderr)
        return 1


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))

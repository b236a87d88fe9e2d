#!/usr/bin/env python3
"""What one API request costs, in counts that do not depend on load.

Builds the trove-api WSGI application in this process (noauth, a
temporary SQLite control database seeded by bench_seed), then for each
benchmarked GET route calls the WSGI callable ``--requests`` times after
a warm-up, and prints per request:

* ``calls``: Python function calls (profiler events, C functions
  included): deterministic, and a proxy for the interpreter's work;
* with ``--callgrind``: machine instructions, counted by valgrind's
  callgrind tool. The script runs itself under valgrind and marks the
  start and end of each route's loop with a call of the C function
  ``getppid()`` (``--dump-before=getppid``), so each route's instructions
  are one dump of their own. Under valgrind the run is ~50x slower.

Wall-clock time is not printed: on a shared, loaded machine it measures
the neighbours. The datastore snapshot is kept for the whole run
(``datastore_cache_ttl`` 3600 s) and the policy files are not looked at
again, so a run counts the same work every time.

    python tools/bench/request_cost.py [--requests 50] [--callgrind]
        [--routes parameters,instances-100]
"""
import argparse
import glob
import io
import os
import re
import shutil
import subprocess
import sys
import tempfile

from trove_clone.api import app as api_app
from trove_clone.common import policy
from trove_clone.common import secrets
from trove_clone.conf import CONF
from trove_clone.db import api as db_api
from trove_clone.db import models

import bench_seed

MARKER = 'getppid'


def environ(path: str, project: str) -> dict:
    """A WSGI environ as waitress builds it for a keep-alive GET."""
    env = {
        'REQUEST_METHOD': 'GET', 'SCRIPT_NAME': '', 'PATH_INFO': path,
        'QUERY_STRING': '', 'SERVER_NAME': '127.0.0.1',
        'SERVER_PORT': '8779', 'SERVER_PROTOCOL': 'HTTP/1.1',
        'REMOTE_ADDR': '127.0.0.1', 'HTTP_HOST': '127.0.0.1:8779',
        'HTTP_CONNECTION': 'keep-alive', 'wsgi.url_scheme': 'http',
        'wsgi.input': io.BytesIO(b''), 'wsgi.errors': sys.stderr,
        'wsgi.multithread': True, 'wsgi.multiprocess': False,
        'wsgi.run_once': False, 'wsgi.version': (1, 0),
    }
    for name, value in bench_seed.headers(project).items():
        env['HTTP_' + name.upper().replace('-', '_')] = value
    return env


def call(app, path: str, project: str) -> bytes:
    status = []

    def start_response(code, headers, exc_info=None):
        status.append(code)
        return lambda data: None

    body = app(environ(path, project), start_response)
    try:
        data = b''.join(body)
    finally:
        if hasattr(body, 'close'):
            body.close()
    if not status[0].startswith('200'):
        raise SystemExit('GET %s answered %s: %s' % (path, status[0],
                                                     data[:200]))
    return data


def setup(state: str):
    CONF([], project='trove', default_config_files=[])
    CONF.set_override('connection', 'sqlite:///%s/trove.sqlite' % state,
                      group='database')
    CONF.set_override('auth_strategy', 'noauth')
    CONF.set_override('http_get_rate', -1)
    CONF.set_override('datastore_cache_ttl', 3600.0)
    CONF.set_override('instances_page_size', bench_seed.INSTANCES)
    CONF.set_override('configurations_page_size', bench_seed.CONFIGURATIONS)
    CONF.set_override('inst_rpc_key_file', os.path.join(
        state, secrets.RPC_KEY_FILE_NAME))
    secrets.ensure_rpc_key()
    policy.RELOAD_INTERVAL = 1e9
    models.Base.metadata.create_all(db_api.get_engine())
    db_api.pool_sqlite_connections(pool_size=4)
    ids = bench_seed.seed()
    return api_app.build_app(), bench_seed.routes(ids)


class CallCounter:
    """Counts profiler events that start a function (Python or C)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, frame, event, arg) -> None:
        if event == 'call' or event == 'c_call':
            self.count += 1


def count_calls(app, path: str, project: str, requests: int) -> float:
    counter = CallCounter()
    sys.setprofile(counter)
    try:
        for _ in range(requests):
            call(app, path, project)
    finally:
        sys.setprofile(None)
    return counter.count / requests


def inner(args) -> int:
    """The measured process: setup, then each route's loop between two
    markers (under callgrind) or under the call counter."""
    state = tempfile.mkdtemp(prefix='trove-request-cost-')
    try:
        app, routes = setup(state)
        selected = [route for route in routes
                    if not args.routes or route[0] in args.routes]
        for name, path, project in selected:
            for _ in range(args.warmup):
                call(app, path, project)
            if args.callgrind_inner:
                os.getppid()
                for _ in range(args.requests):
                    call(app, path, project)
                os.getppid()
            else:
                calls = count_calls(app, path, project, args.requests)
                size = len(call(app, path, project))
                print('%-16s %12.0f %10d' % (name, calls, size))
        if args.callgrind_inner:
            print(' '.join(route[0] for route in selected))
    finally:
        db_api.dispose()
        shutil.rmtree(state, ignore_errors=True)
    return 0


def dump_totals(out_dir: str) -> list[int]:
    """Instruction totals of callgrind's dumps, in dump order."""
    def number(path: str) -> int:
        match = re.search(r'\.(\d+)$', path)
        return int(match.group(1)) if match else 0

    totals = []
    for path in sorted(glob.glob(os.path.join(out_dir, 'cg.out.*')),
                       key=number):
        if number(path) == 0:
            continue
        with open(path) as dump:
            for line in dump:
                if line.startswith(('summary:', 'totals:')):
                    totals.append(int(line.split()[1]))
                    break
    return totals


def under_callgrind(args) -> int:
    out_dir = tempfile.mkdtemp(prefix='trove-callgrind-')
    command = ['valgrind', '--tool=callgrind', '--dump-before=' + MARKER,
               '--callgrind-out-file=%s/cg.out' % out_dir,
               sys.executable, os.path.abspath(__file__),
               '--callgrind-inner', '--requests', str(args.requests),
               '--warmup', str(args.warmup)]
    if args.routes:
        command += ['--routes', ','.join(args.routes)]
    try:
        done = subprocess.run(command, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, text=True)
        if done.returncode:
            raise SystemExit('the run under callgrind failed: %s'
                             % done.stdout[-2000:])
        names = done.stdout.split()
        totals = dump_totals(out_dir)
        # Dump 1: start to the first marker; then for each route its
        # loop (odd dumps) and the warm-up of the next (even dumps).
        loops = totals[1::2][:len(names)]
        if len(loops) != len(names):
            raise SystemExit('callgrind wrote %d dumps for %d routes'
                             % (len(totals), len(names)))
        print('%-16s %14s' % ('route', 'instr/request'))
        for name, total in zip(names, loops):
            print('%-16s %14.0f' % (name, total / args.requests))
    finally:
        shutil.rmtree(out_dir, ignore_errors=True)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--requests', type=int, default=50)
    parser.add_argument('--warmup', type=int, default=5)
    parser.add_argument('--routes', type=lambda text: text.split(','),
                        help='comma-separated route names (default: all)')
    parser.add_argument('--callgrind', action='store_true',
                        help='count machine instructions under valgrind')
    parser.add_argument('--callgrind-inner', action='store_true',
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.callgrind:
        return under_callgrind(args)
    if not args.callgrind_inner:
        print('%-16s %12s %10s' % ('route', 'calls/req', 'bytes'))
    return inner(args)


if __name__ == '__main__':
    sys.exit(main())

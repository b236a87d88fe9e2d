"""MariaDB Galera clusters (the mysql and mariadb managers): the cluster
capability (capabilities/cluster.py, doc/clusters.md) on galera-4; the
operator's notes are in doc/clusters-galera.md.

Every member is writable and holds all the data. Unlike Redis, where one
member introduces the others, each Galera member joins by itself: the
taskmanager calls :meth:`MariadbGalera.join` on *every* member with the
full member list, the first member first.

- The first member, when no other member answers on its group port and
  it has never been part of a cluster, is bootstrapped from its own data
  (``--wsrep-new-cluster``), after it made the SST account
  (:data:`wsrep.SST_USER`, the cluster's ``secret`` as its password:
  derived by the taskmanager, never a tenant's).
- Any other member waits until a listed member answers, then restarts
  with the member list and gets a copy of the data through mariabackup
  SST from a running member (the *donor*); a member that restarts later
  catches up through IST from the write-set cache when it can.
- A member that already serves only takes the new list (a grow): it is
  written for its next start, nothing is interrupted.

A member serves (``state`` ``ok``) when it is ``Synced`` in a
``Primary`` component and ``wsrep_ready``. A cluster stopped as a whole
restarts from its most advanced member: :meth:`recovery_position` of
each (``grastate.dat``; after a crash ``mariadbd --wsrep-recover``),
:func:`trove_clone.services.cluster_topology.most_advanced` picks one,
:meth:`rebootstrap` starts it as a new primary component with its data,
and the others are started (they join it).
"""
import ipaddress
import os
import socket
import subprocess
import time

from oslo_log import log as logging

from trove_clone.common import exception
from trove_clone.guestagent.capabilities import cluster
from trove_clone.guestagent.capabilities import lifecycle as base
from trove_clone.guestagent.capabilities import overrides
from trove_clone.guestagent.datastores.mariadb import lifecycle
from trove_clone.guestagent.datastores.mariadb import wsrep

LOG = logging.getLogger(__name__)
#: How long a bootstrapped member may take to be Primary and Synced.
BOOTSTRAP_TIMEOUT = 120.0
#: How long a joining member waits for the copy of the data and to be
#: Synced (an SST of a large data set takes long).
JOIN_TIMEOUT = 900.0
#: How long a joining member waits for another member to answer.
PEER_TIMEOUT = 300.0
#: How long ``mariadbd --wsrep-recover`` may take.
RECOVER_TIMEOUT = 300.0


def check_addresses(members: list[dict]) -> list[dict]:
    """``members`` with their addresses checked as IP addresses (they go
    into my.cnf).

    :raises exception.BadRequest: naming the member
    """
    checked = []
    for member in members:
        try:
            address = str(ipaddress.ip_address(member['address']))
        except ValueError:
            raise exception.BadRequest('the address %r of member %s is not '
                                       'an IP address'
                                       % (member['address'], member['id']))
        checked.append({'id': member['id'], 'address': address})
    return checked


def answers(address: str, port: int = wsrep.GCOMM_PORT,
            timeout: float = 1.0) -> bool:
    """Whether something accepts connections at ``address``:``port``."""
    try:
        with socket.create_connection((address, port), timeout):
            return True
    except OSError:
        return False


class MariadbGalera(cluster.Cluster):

    datastore = 'mariadb'
    engine: lifecycle.MariadbLifecycle
    join_timeout: float = JOIN_TIMEOUT
    peer_timeout: float = PEER_TIMEOUT

    # --- helpers -------------------------------------------------------

    def _wsrep_status(self) -> dict:
        with self.engine.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep%'")
            return {name: value for name, value in cursor.fetchall()}

    def _save(self, state: dict) -> None:
        cluster.save_state(self.engine, state)

    def _start(self, new_cluster: bool = False,
               timeout: float = lifecycle.MariadbLifecycle.start_timeout
               ) -> None:
        """Start the engine (its configuration rendered from the state
        file), bootstrapping a new cluster when ``new_cluster``."""
        provider = self.engine.programs.get(wsrep.PROVIDER_PROGRAM,
                                            wsrep.DEFAULT_PROVIDER)
        if not os.path.exists(provider):
            raise cluster.ClusterError(
                reason='the Galera provider %s is not installed in the '
                       'guest image' % provider)
        self.engine.extra_arguments = ('--wsrep-new-cluster',) \
            if new_cluster else ()
        self.engine.start_timeout = timeout
        try:
            self.engine.start()
        except base.EngineError as error:
            raise cluster.ClusterError(reason=error.message) from error
        finally:
            self.engine.extra_arguments = ()
            self.engine.start_timeout = \
                lifecycle.MariadbLifecycle.start_timeout

    def _make_sst_user(self, password: str) -> None:
        with self.engine.cursor() as cursor:
            cursor.execute('CREATE OR REPLACE USER %s@%s IDENTIFIED BY %s',
                           (wsrep.SST_USER, wsrep.SST_HOST, password))
            cursor.execute('GRANT %s ON *.* TO %%s@%%s' %
                           wsrep.SST_PRIVILEGES,
                           (wsrep.SST_USER, wsrep.SST_HOST))

    def _serving(self) -> bool:
        return self._status().get('state') == 'ok'

    def wait_until_serving(self, timeout: float) -> dict:
        """The status once it is ``ok``.

        :raises cluster.ClusterError: not serving after ``timeout`` s
        """
        deadline = time.monotonic() + timeout
        while True:
            status = self._status()
            if status['state'] == 'ok':
                return status
            if time.monotonic() >= deadline or (
                    not self.engine.is_running() and
                    status['state'] == 'stopped'):
                raise cluster.ClusterError(reason=(
                    'the member is not serving after %d s (%s): %s' % (
                        timeout, status['state'],
                        self.engine.engine_log_tail())))
            time.sleep(0.1)

    def _has_history(self) -> bool:
        """Whether this member's data was ever part of a cluster (a
        bootstrap of it would start a second history)."""
        position = wsrep.read_grastate(self.engine.datadir)
        return bool(position and position['uuid'] and
                    position['uuid'].strip('0-'))

    # --- the contract ----------------------------------------------------

    def _join(self, members: list) -> None:
        members = check_addresses(members)
        me = [member for member in members
              if member['address'] == self.engine.address]
        if not me:
            raise exception.BadRequest('no member of the list has this '
                                       'instance\'s address %s'
                                       % self.engine.address)
        state = self.state
        was_member = bool(state.get('members'))
        state.update(members=members, self=me[0]['id'])
        if was_member and self.engine.is_running():
            # Already a member (a grow): the list is for the next start.
            self._save(state)
            self.engine._write_conf()
            LOG.info('The cluster has %d members now.', len(members))
            return
        others = [member['address'] for member in members
                  if member['address'] != self.engine.address]
        first = members[0]['address'] == self.engine.address
        if first and not self._has_history() and \
                not any(answers(address) for address in others):
            self._bootstrap(state)
            return
        give_up = time.monotonic() + self.peer_timeout
        while not any(answers(address) for address in others):
            if time.monotonic() > give_up:
                raise cluster.ClusterError(reason=(
                    'no other member of the cluster answers on port %d '
                    'after %d s' % (wsrep.GCOMM_PORT, self.peer_timeout)))
            time.sleep(0.2)
        self.engine.stop()
        self._save(state)
        LOG.info('Joining the cluster %s (a copy of its data comes from a '
                 'member).', state['id'])
        self._start(timeout=self.join_timeout)
        self.wait_until_serving(self.join_timeout)
        LOG.info('Joined the cluster %s.', state['id'])

    def _bootstrap(self, state: dict) -> None:
        if not self.engine.is_healthy():
            raise exception.UnprocessableEntity(
                'The first member must run before it bootstraps the '
                'cluster.')
        # Made standalone: the account is in the data every member copies.
        self._make_sst_user(state['secret'])
        self.engine.stop()
        self._save(state)
        try:
            self._start(new_cluster=True)
            self.wait_until_serving(BOOTSTRAP_TIMEOUT)
        except exception.TroveError:
            LOG.error('Bootstrapping the cluster %s failed.', state['id'])
            self.engine.stop()
            for name in ('members', 'self'):
                state.pop(name, None)
            self._save(state)
            self.engine.start()
            raise
        LOG.info('Bootstrapped the cluster %s (%d members listed).',
                 state['id'], len(state['members']))

    def _forget(self, members: list) -> None:
        gone = {member['id'] for member in members} | \
            {member['address'] for member in members}
        state = self.state
        state['members'] = [
            member for member in state.get('members', [])
            if member['id'] not in gone and member['address'] not in gone]
        self._save(state)
        # The running engine saw them leave; the next start reads the
        # new list.
        self.engine._write_conf()

    def _leave(self) -> None:
        # A clean shutdown: the others see this member leave and compute
        # their quorum without it.
        self.engine.stop()
        state = self.state
        for name in ('members', 'self'):
            state.pop(name, None)
        self._save(state)
        for path in (os.path.join(self.engine.datadir, 'galera.cache'),
                     os.path.join(self.engine.datadir, 'gvwstate.dat'),
                     self.engine.wsrep_secrets_path):
            try:
                os.unlink(path)
            except FileNotFoundError:
                pass
        # Standalone from now on: my.cnf without wsrep.
        self.engine._write_conf()
        LOG.info('Left the cluster %s.', state.get('id'))

    def _status(self) -> dict:
        state = self.state
        report = {'state': 'stopped', 'members': 0,
                  'node': state.get('self'), 'cluster_id': state.get('id'),
                  'listed': len(state.get('members') or []),
                  'wsrep_state': None, 'primary': False, 'ready': False,
                  'seqno': None, 'error': None}
        if not state.get('members'):
            report['state'] = 'not joined'
            return report
        if not self.engine.is_running():
            return report
        try:
            variables = self._wsrep_status()
        except base.EngineError as error:
            report.update(state='unreachable', error=error.message[:500])
            return report
        comment = variables.get('wsrep_local_state_comment') or 'unknown'
        primary = variables.get('wsrep_cluster_status') == 'Primary'
        ready = variables.get('wsrep_ready') == 'ON'
        size = variables.get('wsrep_cluster_size') or ''
        seqno = variables.get('wsrep_last_committed') or ''
        report.update(
            wsrep_state=comment, primary=primary, ready=ready,
            members=int(size) if size.isdigit() else 0,
            seqno=int(seqno) if seqno.lstrip('-').isdigit() else None,
            state='ok' if comment == 'Synced' and primary and ready
            else comment.lower())
        return report

    # --- a cluster stopped as a whole ------------------------------------

    def recovery_position(self) -> dict:
        """``{'uuid', 'seqno', 'safe_to_bootstrap', 'running'}`` of this
        member's data (a running member: what it committed)."""
        self._require_member()
        if self.engine.is_running():
            variables = self._wsrep_status()
            return {'uuid': variables.get('wsrep_cluster_state_uuid'),
                    'seqno': int(variables.get('wsrep_last_committed')
                                 or -1),
                    'safe_to_bootstrap': False, 'running': True}
        position = wsrep.read_grastate(self.engine.datadir)
        if position is not None and position['seqno'] >= 0:
            return dict(position, running=False)
        # A crash: the position is in the InnoDB logs.
        recovered = self._wsrep_recover()
        return dict(recovered or position or {
            'uuid': None, 'seqno': -1, 'safe_to_bootstrap': False},
            running=False)

    def _wsrep_recover(self) -> dict | None:
        result = subprocess.run(
            [self.engine.programs['server']] + self.engine._arguments() +
            ['--wsrep-recover'],
            capture_output=True, text=True, timeout=RECOVER_TIMEOUT,
            **self.engine._privileges())
        recovered = wsrep.recovered_position(result.stderr + result.stdout)
        if recovered is None:
            LOG.error('mariadbd --wsrep-recover found no position: %s',
                      (result.stderr or result.stdout)[-500:])
        return recovered

    def rebootstrap(self) -> dict:
        """Start this stopped member as the first of a cluster restarted
        as a whole, with its own data (the taskmanager chose it as the
        most advanced); returns the status once it serves."""
        state = self._require_member()
        if not state.get('members'):
            raise exception.UnprocessableEntity(
                'This member has not joined its cluster.')
        if self.engine.is_running():
            raise exception.UnprocessableEntity(
                'The engine runs: only a stopped member restarts the '
                'cluster.')
        position = self.recovery_position()
        if position.get('uuid') and position.get('seqno', -1) >= 0:
            position['safe_to_bootstrap'] = True
            overrides.replace_file(
                os.path.join(self.engine.datadir, wsrep.GRASTATE),
                wsrep.grastate_text(position), self.engine._user())
        LOG.info('Restarting the cluster from this member at %s:%s.',
                 position.get('uuid'), position.get('seqno'))
        self._start(new_cluster=True)
        return self.wait_until_serving(BOOTSTRAP_TIMEOUT)

"""The wsrep (Galera) settings of a MariaDB cluster member, and its
``grastate.dat``: plain functions the lifecycle (which renders my.cnf)
and the cluster capability (galera.py) share.

Every member listens on its own address, so the standard Galera ports
serve every member of a host: group communication on 4567, incremental
state transfer (IST) on 4568, state snapshot transfer (SST) on 4444,
each bound to the member's address (never 0.0.0.0: two members of one
host would collide).
"""
import ipaddress
import os

#: Where Debian's galera-4 package puts the provider.
DEFAULT_PROVIDER = '/usr/lib/galera/libgalera_smm.so'
#: The manifest program naming the provider (tools/build-guest-image).
PROVIDER_PROGRAM = 'galera_provider'
#: Group communication, IST and SST ports.
GCOMM_PORT = 4567
IST_PORT = 4568
SST_PORT = 4444
#: The account the donor's mariabackup logs in with (``os_``: the
#: agent's prefix, no tenant may take it), on the socket only.
SST_USER = 'os_sst'
SST_HOST = 'localhost'
#: What the SST account may do: what mariabackup needs to copy a
#: running server, nothing more.
SST_PRIVILEGES = 'RELOAD, PROCESS, LOCK TABLES, BINLOG MONITOR'
#: The GTID domain of the writesets (the same on every member).
GTID_DOMAIN = 1
#: The state file Galera keeps in the data directory.
GRASTATE = 'grastate.dat'
#: The option file of the SST account's password, beside my.cnf.
SECRETS_FILE = 'wsrep-secrets.cnf'


def host(address: str) -> str:
    """``address`` as Galera's URLs take it (IPv6 in brackets)."""
    if ipaddress.ip_address(address).version == 6:
        return '[%s]' % address
    return address


def gcache_mb(ram_mb: int) -> int:
    """The write-set cache (what a member that restarts catches up from
    without a full copy): an eighth of the RAM, 16 to 512 MB."""
    return min(max(ram_mb // 8, 16), 512)


def settings(address: str, state: dict, provider: str, secrets_file: str,
             ram_mb: int) -> dict:
    """What config.template renders for a member at ``address`` of the
    cluster of ``state`` (the cluster capability's state file); the SST
    password goes to ``secrets_file`` (:func:`secrets_text`)."""
    me = host(address)
    options = ['gmcast.listen_addr=tcp://%s:%d' % (me, GCOMM_PORT),
               'ist.recv_addr=%s:%d' % (me, IST_PORT),
               'gcache.size=%dM' % gcache_mb(ram_mb)]
    return {
        'provider': provider,
        'cluster_name': state['id'].replace('-', ''),
        'cluster_address': 'gcomm://' + ','.join(
            '%s:%d' % (host(member['address']), GCOMM_PORT)
            for member in state['members']),
        'node_name': state.get('self') or address,
        'node_address': me,
        'provider_options': ';'.join(options),
        'sst_receive_address': '%s:%d' % (me, SST_PORT),
        'sst_sockopt': 'bind=%s' % me,
        'secrets_file': secrets_file,
        'gtid_domain_id': GTID_DOMAIN,
    }


def secrets_text(sst_password: str) -> str:
    """The option file included by my.cnf with the SST account."""
    return '[mysqld]\nwsrep_sst_auth = %s:%s\n' % (SST_USER, sst_password)


def read_grastate(datadir: str) -> dict | None:
    """``{'uuid', 'seqno', 'safe_to_bootstrap'}`` of the member's
    ``grastate.dat``, None when it has none."""
    try:
        with open(os.path.join(datadir, GRASTATE)) as source:
            text = source.read()
    except FileNotFoundError:
        return None
    fields = {}
    for line in text.splitlines():
        name, _, value = line.partition(':')
        if value and not name.startswith('#'):
            fields[name.strip()] = value.strip()
    try:
        seqno = int(fields.get('seqno', '-1'))
    except ValueError:
        seqno = -1
    return {'uuid': fields.get('uuid'), 'seqno': seqno,
            'safe_to_bootstrap': fields.get('safe_to_bootstrap') == '1'}


def grastate_text(position: dict) -> str:
    """The ``grastate.dat`` of ``position``."""
    return ('# GALERA saved state\nversion: 2.1\nuuid:    %s\nseqno:   %d\n'
            'safe_to_bootstrap: %d\n' % (
                position['uuid'], position['seqno'],
                1 if position.get('safe_to_bootstrap') else 0))


def recovered_position(log: str) -> dict | None:
    """The position ``mariadbd --wsrep-recover`` printed (``Recovered
    position: <uuid>:<seqno>``, MariaDB 10.11 adds ``,<gtid>``), None
    when it printed none."""
    for line in reversed(log.splitlines()):
        marker = 'Recovered position:'
        if marker in line:
            position = line.split(marker, 1)[1].strip().split(',')[0]
            uuid, _, seqno = position.rpartition(':')
            try:
                return {'uuid': uuid, 'seqno': int(seqno),
                        'safe_to_bootstrap': False}
            except ValueError:
                return None
    return None

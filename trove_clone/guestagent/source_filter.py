"""Which client addresses may reach the engine: the instance's
``allowed_cidrs``, enforced by a kernel socket filter on the engine's
listening socket.

The agent takes a duplicate of the engine's listening socket
(``pidfd_getfd``, Linux 5.6: the agent is root or the engine's parent)
and attaches a classic BPF program to it (``SO_ATTACH_FILTER``). The
kernel runs the program on each packet that reaches the socket; a SYN
from an address outside the CIDRs is dropped, so the client's connect
times out as it does behind a security group. Connections accepted from
then on inherit the program; the established connections from
elsewhere are closed (:func:`cut_others`). Nothing runs in user space
per connection or per packet, and the same code serves every engine
(MariaDB, PostgreSQL, Redis): none of them has to know.

The instance's own address is always allowed: the agent reaches Redis
over TCP from it. An empty list removes the program (every address may
connect, Trove's meaning of no ``allowed_cidrs``). IPv6 CIDRs are kept
but match nothing here: the engines listen on the instance's IPv4
address.

The CIDRs are kept in ``<volume>/agent/allowed_cidrs.json``, so that each
start of the engine (restart, reboot, resize, upgrade) puts the program
on its new socket before the agent reports the engine healthy.
"""
import ctypes
import ipaddress
import json
import os
import shutil
import socket
import struct
import subprocess

from trove_clone.common import exception

#: File of the CIDRs in the agent's directory.
STATE_FILE = 'allowed_cidrs.json'
_SYS_PIDFD_GETFD = 438
_SO_ATTACH_FILTER = 26
_SO_DETACH_FILTER = 27
#: Classic BPF: offsets from the network header (linux/filter.h).
_SKF_NET_OFF = -0x100000
_LD_W_ABS = 0x20
_LDB_ABS = 0x30
_RSH_K = 0x74
_AND_K = 0x54
_JEQ_K = 0x15
_RET_K = 0x06
_TAX = 0x07
_TXA = 0x87
_ACCEPT = 0xffffffff
_DROP = 0
#: The kernel refuses longer programs (BPF_MAXINSNS).
_MAX_INSTRUCTIONS = 4096
_TCP_LISTEN = '0A'


class SourceFilterError(exception.TroveError):
    """The engine's listening socket could not be given its filter."""


def _instruction(code: int, jump_true: int, jump_false: int,
                 k: int) -> bytes:
    return struct.pack('HBBI', code, jump_true, jump_false, k & 0xffffffff)


def normalized(cidrs: list[str]) -> list[str]:
    """The CIDRs as networks (host bits cleared), in order, once each.

    :raises ValueError: naming the first that is not an IPv4 or IPv6 CIDR
    """
    result = []
    for cidr in cidrs:
        network = str(ipaddress.ip_network(cidr, strict=False))
        if network not in result:
            result.append(network)
    return result


def program(cidrs: list[str], own_address: str) -> list[bytes]:
    """The classic BPF instructions accepting IPv4 packets whose source
    is ``own_address`` or inside one of the IPv4 ``cidrs``, dropping the
    others (IPv6 CIDRs are skipped)."""
    networks = [ipaddress.ip_network(own_address + '/32')] + [
        network for network in map(ipaddress.ip_network, normalized(cidrs))
        if network.version == 4]
    # The source address is loaded once into X; each network is then
    # four short instructions (jump offsets are 8 bits): copy, mask,
    # compare, accept.
    instructions = [
        # Anything but IPv4 is dropped (the version is the high nibble).
        _instruction(_LDB_ABS, 0, 0, _SKF_NET_OFF),
        _instruction(_RSH_K, 0, 0, 4),
        _instruction(_JEQ_K, 1, 0, 4),
        _instruction(_RET_K, 0, 0, _DROP),
        _instruction(_LD_W_ABS, 0, 0, _SKF_NET_OFF + 12),
        _instruction(_TAX, 0, 0, 0)]
    for network in networks:
        instructions += [
            _instruction(_TXA, 0, 0, 0),
            _instruction(_AND_K, 0, 0, int(network.netmask)),
            _instruction(_JEQ_K, 0, 1, int(network.network_address)),
            _instruction(_RET_K, 0, 0, _ACCEPT)]
    instructions.append(_instruction(_RET_K, 0, 0, _DROP))
    if len(instructions) > _MAX_INSTRUCTIONS:
        raise SourceFilterError('Too many allowed CIDRs for the socket '
                                'filter (%d).' % len(cidrs))
    return instructions


class _Program(ctypes.Structure):
    _fields_ = [('len', ctypes.c_ushort), ('filter', ctypes.c_void_p)]


def _listener_inodes(address: str, port: int) -> set[str]:
    """Socket inodes listening on ``address:port`` (IPv4)."""
    packed = socket.inet_aton(address)
    local = '%08X:%04X' % (struct.unpack('<I', packed)[0], port)
    inodes = set()
    with open('/proc/net/tcp') as table:
        next(table)
        for line in table:
            fields = line.split()
            if fields[1] == local and fields[3] == _TCP_LISTEN:
                inodes.add(fields[9])
    return inodes


def listening_fd(pid: int, address: str, port: int) -> int | None:
    """The number of the engine's (``pid``) descriptor listening on
    ``address:port``, None while it does not listen yet."""
    inodes = _listener_inodes(address, port)
    if not inodes:
        return None
    directory = '/proc/%d/fd' % pid
    try:
        names = os.listdir(directory)
    except OSError:
        return None
    for name in names:
        try:
            target = os.readlink(os.path.join(directory, name))
        except OSError:
            continue
        if target.startswith('socket:[') and target[8:-1] in inodes:
            return int(name)
    return None


def _duplicate(pid: int, number: int) -> socket.socket:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    pidfd = os.pidfd_open(pid)
    try:
        duplicate = libc.syscall(_SYS_PIDFD_GETFD, pidfd, number, 0)
    finally:
        os.close(pidfd)
    if duplicate < 0:
        error = ctypes.get_errno()
        raise SourceFilterError(
            'Cannot reach the listening socket of the engine (pid %d): %s'
            % (pid, os.strerror(error)))
    return socket.socket(fileno=duplicate)


def apply(pid: int, address: str, port: int, cidrs: list[str]) -> bool:
    """Give the socket of the engine ``pid`` listening on ``address:port``
    the filter of ``cidrs`` (none: remove it). Returns False while the
    engine does not listen yet.

    :raises SourceFilterError: when the socket cannot be reached or the
        kernel refuses the program
    """
    number = listening_fd(pid, address, port)
    if number is None:
        return False
    listener = _duplicate(pid, number)
    try:
        if not cidrs:
            try:
                listener.setsockopt(socket.SOL_SOCKET, _SO_DETACH_FILTER, 0)
            except OSError:
                pass  # ENOENT: it had none
            return True
        code = b''.join(program(cidrs, address))
        buffer = ctypes.create_string_buffer(code, len(code))
        header = _Program(len(code) // 8,
                          ctypes.cast(buffer, ctypes.c_void_p))
        try:
            listener.setsockopt(socket.SOL_SOCKET, _SO_ATTACH_FILTER,
                                bytes(header))
        except OSError as error:
            raise SourceFilterError('The kernel refused the socket filter: '
                                    '%s' % error)
        return True
    finally:
        listener.close()


def cut_others(address: str, port: int, cidrs: list[str]) -> int:
    """Close the engine's established connections (``address:port``)
    from sources outside ``cidrs`` (and not ``address`` itself), as a
    security group change cuts them: the filter only sees new ones.
    Through ``ss -K`` (the kernel's SOCK_DESTROY, root only). Returns how
    many were closed.

    :raises SourceFilterError: when they cannot be closed (no ``ss``, not
        root)
    """
    program = shutil.which('ss')
    if program is None:
        raise SourceFilterError('ss (iproute2) is missing.')
    allowed = ['dst', address + '/32']
    for network in map(ipaddress.ip_network, normalized(cidrs)):
        if network.version == 4:
            allowed += ['or', 'dst', str(network)]
    result = subprocess.run(
        [program, '-K', '-H', '-t', 'state', 'established', 'src',
         '%s:%d' % (address, port), 'and', 'not', '('] + allowed + [')'],
        capture_output=True, text=True, timeout=30)
    if result.returncode:
        raise SourceFilterError('ss -K failed: %s' % result.stderr.strip())
    return len(result.stdout.splitlines())


def load(agent_dir: str) -> list[str]:
    """The CIDRs kept in ``agent_dir`` ([] when none were set)."""
    try:
        with open(os.path.join(agent_dir, STATE_FILE)) as source:
            return list(json.load(source))
    except FileNotFoundError:
        return []


def save(agent_dir: str, cidrs: list[str]) -> None:
    """Keep ``cidrs`` in ``agent_dir`` (0600, replaced in one rename)."""
    os.makedirs(agent_dir, mode=0o700, exist_ok=True)
    path = os.path.join(agent_dir, STATE_FILE)
    descriptor = os.open(path + '.new', os.O_WRONLY | os.O_CREAT |
                         os.O_TRUNC | os.O_NOFOLLOW, 0o600)
    with os.fdopen(descriptor, 'w') as target:
        json.dump(list(cidrs), target)
        target.flush()
        os.fsync(target.fileno())
    os.replace(path + '.new', path)

"""Where the dashboard listens, and which names it answers to.

The dashboard shows command lines (which may hold secrets), host names and the
database path, so it listens on loopback unless told otherwise in so many
words (``allow_remote``). The socket is bound here, before uvicorn starts, so
an address in use or a host that is no address is one clear ``BadInput``.
"""

from __future__ import annotations

import errno
import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass, replace

from wattwise.errors import BadInput

#: The names a browser on this machine may use for a loopback dashboard.
LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "[::1]"})


@dataclass(frozen=True)
class Spot:
    """A checked place to listen: the address to bind and the names to answer to."""

    host: str
    port: int
    family: int
    address: tuple[object, ...]
    remote: bool
    #: Host names (as in a ``Host`` header, IPv6 in brackets) besides the loopback ones.
    names: frozenset[str]

    def url(self) -> str:
        """The address to open in a browser."""
        if not self.remote:
            host = self.host
        elif _unspecified(self.host):
            host = socket.gethostname()
        else:
            host = self.host
        return f"http://{host_name(host)}:{self.port}/"


def host_name(host: str) -> str:
    """``host`` as it stands in a ``Host`` header: lower case, an IPv6 address in brackets."""
    host = host.strip().lower()
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    try:
        ip = ipaddress.ip_address(host.split("%", 1)[0])
    except ValueError:
        return host
    return f"[{ip.compressed}]" if ip.version == 6 else ip.compressed


def plan(host: str, port: int, *, allow_remote: bool = False) -> Spot:
    """Check ``host``/``port``; a non-loopback host needs ``allow_remote``."""
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port < 65536:
        raise BadInput(f"port must be between 0 (any free port) and 65535, got {port!r}")
    text = host.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    if not text or any(c.isspace() for c in text):
        raise BadInput(f"cannot listen on {host!r}: not a host name or address")
    try:
        infos = socket.getaddrinfo(text, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (OSError, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise BadInput(
            f"cannot listen on {host!r}: not a host name or address ({reason})"
        ) from None
    family, _, _, _, address = infos[0]
    ips = {_ip(str(info[4][0])) for info in infos}
    remote = not all(ip is not None and ip.is_loopback for ip in ips)
    if remote and not allow_remote:
        raise BadInput(
            f"refusing to listen on {host}: the dashboard shows command lines, host names and "
            "the database path to anyone who can reach it; pass --allow-remote to listen "
            "beyond this machine (a token is then required), or keep 127.0.0.1 and put a "
            "reverse proxy with TLS in front"
        )
    names: set[str] = set()
    if remote and all(ip is not None and ip.is_unspecified for ip in ips):
        names |= _own_names()
    else:  # the name it was given answers too (127.0.0.2, a LAN address)
        names |= {host_name(text)} | {host_name(str(ip)) for ip in ips if ip is not None}
    return Spot(text, port, family, tuple(address), remote, frozenset(names))


def listen(spot: Spot) -> socket.socket:
    """A listening socket at ``spot``; an address in use is a ``BadInput``, not a traceback."""
    sock = socket.socket(spot.family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        sock.bind(spot.address)
        sock.listen(128)
    except OSError as exc:
        sock.close()
        where = f"{host_name(spot.host)}:{spot.port}"
        if exc.errno == errno.EADDRINUSE:
            raise BadInput(
                f"cannot listen on {where}: the port is in use (another dashboard?); "
                "pick another with --port"
            ) from None
        raise BadInput(f"cannot listen on {where}: {exc.strerror or exc}") from None
    return sock


def bound(spot: Spot, sock: socket.socket) -> Spot:
    """``spot`` with the port ``sock`` really got (port 0 asks for any free one)."""
    return replace(spot, port=int(sock.getsockname()[1]))


def _ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(text.split("%", 1)[0])
    except ValueError:
        return None


def _unspecified(host: str) -> bool:
    ip = _ip(host)
    return ip is not None and ip.is_unspecified


def _own_names() -> set[str]:
    """This machine's names and addresses: what a client may call a wildcard-bound dashboard."""
    import psutil

    names: set[str] = set()
    for name in (socket.gethostname(), socket.getfqdn()):
        if name:
            names.add(host_name(name))
    try:
        addrs: Iterable[list[object]] = psutil.net_if_addrs().values()
    except (OSError, psutil.Error):
        addrs = []
    for entries in addrs:
        for entry in entries:
            if getattr(entry, "family", None) in (socket.AF_INET, socket.AF_INET6):
                ip = _ip(str(getattr(entry, "address", "")))
                if ip is not None:
                    names.add(host_name(str(ip)))
    return names

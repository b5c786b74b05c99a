"""Facts about this host, read without importing ``platform`` or ``socket``.

Both are stored with every run; on POSIX ``os.uname()`` already holds them and
the two imports would cost ~3 ms at every start.
"""

from __future__ import annotations

import os
import sys
from typing import Any


def hostname() -> str:
    uname = getattr(os, "uname", None)
    if uname is not None:
        return str(uname().nodename)
    import socket

    return socket.gethostname()


def python_version() -> str:
    return ".".join(str(p) for p in sys.version_info[:3])


def host_info() -> dict[str, Any]:
    """Host name, OS, release, machine and Python version of this process."""
    uname = getattr(os, "uname", None)
    if uname is not None:
        u = uname()
        system, release, machine = u.sysname, u.release, u.machine
    else:
        import platform

        system, release, machine = platform.system(), platform.release(), platform.machine()
    return {
        "hostname": hostname(),
        "os": system,
        "os_release": release,
        "machine": machine,
        "python": python_version(),
    }

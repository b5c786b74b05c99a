"""Host facts read from os.uname() match what platform and socket say."""

from __future__ import annotations

import platform
import socket

from wattwise.measure.host import host_info


def test_host_info_matches_platform_and_socket() -> None:
    h = host_info()
    assert h == {
        "hostname": socket.gethostname(),
        "os": platform.system(),
        "os_release": platform.release(),
        "machine": platform.machine(),
        "python": platform.python_version(),
    }

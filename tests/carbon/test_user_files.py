"""The one reader of user-named files (traces, jobs files, the config file): a regular,
readable, non-empty file or one ``BadInput`` line; a FIFO or device is never opened
for a read that could block or never end."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from wattwise._userinput import read_user_file, read_user_text
from wattwise.errors import BadInput


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    p = tmp_path / "t.csv"
    p.write_bytes(b"Time,Carbon Intensity\n")
    assert read_user_file(p, "trace") == b"Time,Carbon Intensity\n"


@pytest.mark.parametrize("make,expected", [
    (lambda p: p.mkdir(), "it is a directory"),
    (lambda p: None, "no such file"),
    (lambda p: p.write_bytes(b""), "is empty"),
    (lambda p: os.symlink("/dev/null", p), "it is a device"),
    (lambda p: os.symlink(p.parent / "nowhere", p), "no such file"),
])
def test_what_is_not_a_readable_regular_file_is_bad_input(
    tmp_path: Path, make: object, expected: str
) -> None:
    p = tmp_path / "x"
    make(p)  # type: ignore[operator]
    with pytest.raises(BadInput, match=expected):
        read_user_file(p, "trace")


@pytest.mark.parametrize("path", ["", "a\x00b"])
def test_an_empty_or_nul_path_is_bad_input(path: str) -> None:
    with pytest.raises(BadInput, match="path"):
        read_user_file(path, "jobs file")


def test_non_utf8_text_names_the_byte(tmp_path: Path) -> None:
    p = tmp_path / "jobs.json"
    p.write_bytes(b'{"a": "\xff"}')
    with pytest.raises(BadInput, match=r"not UTF-8 text \(byte 0xff at offset 7"):
        read_user_text(p, "jobs file")


def test_a_fifo_and_a_link_to_one_are_refused_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    link = tmp_path / "link.csv"
    os.symlink(fifo, link)
    code = (
        "import sys\n"
        "from wattwise._userinput import read_user_file\n"
        "from wattwise.errors import BadInput\n"
        "for p in sys.argv[1:]:\n"
        "    try:\n"
        "        read_user_file(p, 'trace')\n"
        "    except BadInput as e:\n"
        "        print(e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code, str(fifo), str(link)],
                         capture_output=True, text=True, timeout=30)
    assert out.returncode == 0, out.stderr
    assert out.stdout.count("it is a FIFO") == 2, out.stdout

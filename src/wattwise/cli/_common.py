"""What every CLI module shares: the consoles, the one-line error exit, output files
and strict JSON on stdout.

Standard output. While a command runs, ``sys.stdout`` is ``_Stdout`` (installed by
the app's group, ``stdout_guard``), so every writer (Rich consoles, ``print_json``,
Click's help and ``echo``) gets the same rules: a closed pipe (``| head -1``) makes
output go quiet and the command go on, exit code unchanged; any other failure to
write (disk full, ``>&-``, an I/O error) is one ``wattwise: error:`` line and exit
code 2, never a traceback.

Longer than ~500 lines because it is the CLI's one boundary that every command shares:
the stdout guard, the error exit and the output-file checks.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console

from wattwise.cli.render import safe
from wattwise.errors import WattwiseError

F = TypeVar("F", bound=Callable[..., Any])

#: Longest error line, in characters (a refused 1 MB argument is not echoed whole).
MAX_LINE = 500


def _width(stream: object) -> int | None:
    """Rich's width, but 120 columns rather than 80 when output is piped or logged:
    tables of figures and sources are unreadable when cut to 80."""
    isatty = getattr(stream, "isatty", None)
    if "COLUMNS" in os.environ or (callable(isatty) and isatty()):
        return None
    return 120


# No emoji codes: ":fire:" in a run name prints as typed, not as a picture.
class _Console(Console):
    """Rich's console, but a closed pipe (``wattwise run -- job 2>&1 | head -1``) is
    not an exit: Rich's default raises ``SystemExit(1)``, which would replace a
    job's exit code. Output goes quiet and the command goes on."""

    def on_broken_pipe(self) -> None:
        self.quiet = True
        _hush(self.file)


console = _Console(width=_width(sys.stdout), emoji=False)
err_console = _Console(stderr=True, width=_width(sys.stderr), emoji=False)


def say(kind: str, message: object) -> None:
    """One line ``wattwise: KIND: MESSAGE`` on stderr, whatever ``message`` holds:
    control characters and escapes are made visible (``render.safe``), and it is
    cut to ``MAX_LINE`` characters."""
    line = safe(f"wattwise: {kind}: {message}", MAX_LINE)
    stream = sys.stderr
    if stream is None:  # started with fd 2 closed: print() would fall back to stdout
        return
    try:
        stream.write(line + "\n")
        stream.flush()
    except (OSError, ValueError):  # stderr full or gone: nowhere to say it
        _hush(stream)


def _hush(stream: Any) -> None:
    """Point ``stream``'s file descriptor at /dev/null, so nothing written to it
    later (nor the interpreter's flush at exit) fails and changes the exit code."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = stream.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def die(message: str, code: int = 2) -> NoReturn:
    """Print ``wattwise: error: MESSAGE`` on stderr, one line, and exit (2 = bad input)."""
    say("error", message)
    raise typer.Exit(code)


class _Stdout:
    """``sys.stdout`` while a command runs (see the module docstring).

    Writes go to ``stream`` (the real stdout, or None when the process started
    with it closed). A ``BrokenPipeError`` makes it quiet: later writes are
    dropped and the descriptor points at /dev/null. Any other ``OSError`` (or a
    closed stream) raises ``WattwiseError`` once, then it is quiet too; ``failed``
    keeps the message, so a command that swallowed it still exits 2.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self._quiet = False
        self.failed: str | None = None

    def _fail(self, exc: BaseException | None) -> NoReturn:
        why = "it is closed" if exc is None or isinstance(exc, ValueError) \
            else getattr(exc, "strerror", None) or str(exc)
        self.failed = f"cannot write to standard output: {why}"
        self._quiet = True
        _hush(self._stream)
        raise WattwiseError(self.failed)

    def write(self, text: Any) -> int:
        if self._quiet:
            return len(text)
        if self._stream is None:
            self._fail(None)
        try:
            return int(self._stream.write(text))
        except BrokenPipeError:
            self._quiet = True
            _hush(self._stream)
            return len(text)
        except OSError as exc:
            self._fail(exc)
        except ValueError as exc:
            if getattr(self._stream, "closed", False):  # "I/O operation on closed file"
                self._fail(exc)
            raise

    def flush(self) -> None:
        if self._quiet or self._stream is None:
            return
        try:
            self._stream.flush()
        except BrokenPipeError:
            self._quiet = True
            _hush(self._stream)
        except OSError as exc:
            self._fail(exc)
        except ValueError as exc:
            if getattr(self._stream, "closed", False):
                self._fail(exc)
            raise

    def isatty(self) -> bool:
        try:
            return bool(self._stream is not None and self._stream.isatty())
        except (OSError, ValueError):
            return False

    def __getattr__(self, name: str) -> Any:
        if self._stream is None:
            raise AttributeError(name)
        return getattr(self._stream, name)

    def finish(self) -> bool:
        """Flush what is left; False if standard output failed at any point."""
        with contextlib.suppress(WattwiseError):
            self.flush()
        return self.failed is None


@contextlib.contextmanager
def stdout_guard() -> Iterator[None]:
    """Run a command with ``sys.stdout`` as ``_Stdout``; put the stream back after.

    A failed write already said (exit code 2) stays as it is; one that the command
    swallowed, or that only the last flush met, is said here and the exit code
    becomes 2 (it was 0). A non-zero exit code of the command's own is kept.
    """
    real = sys.stdout
    out = _Stdout(real)
    sys.stdout = out  # type: ignore[assignment]
    try:
        try:
            yield
        finally:
            if sys.stdout is out:
                sys.stdout = real
    except SystemExit as exc:
        if exc.code in (0, None) and not out.finish():
            say("error", out.failed)
            raise SystemExit(2) from None
        raise
    if not out.finish():
        say("error", out.failed)
        raise SystemExit(2)


def print_json(value: Any) -> None:
    """``value`` on stdout as strict JSON (true values, JSON-escaped; a NaN or
    infinity is ``null``, said in one note on stderr)."""
    from wattwise.records.export_json import strict_json

    text, notes = strict_json(value)
    sys.stdout.write(text + "\n")
    sys.stdout.flush()
    for note in notes:
        say("note", note)


def guarded(fn: F) -> F:
    """Wrap a command so any ``WattwiseError`` becomes one line and exit code 2, and a
    path option typed as a folder (``x.csv/``) that is not one is refused first."""

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        check_typed_paths(kwargs)
        try:
            return fn(*args, **kwargs)
        except WattwiseError as exc:
            die(str(exc))

    return wrapper  # type: ignore[return-value]


#: The command line being run, as typed (``set_command_line``); None: ``sys.argv``.
_typed: list[str] | None = None


def set_command_line(args: Any) -> None:
    """Remember the arguments the app is parsing (its group calls this; None when it
    is done), so checks can see what was typed: a ``Path`` option has already dropped
    a trailing slash."""
    global _typed
    _typed = None if args is None else [a if isinstance(a, str) else os.fsdecode(a)
                                        for a in args]


def _typed_args() -> list[str]:
    """The arguments before a ``--`` (after it come a measured command's own)."""
    args = _typed if _typed is not None else sys.argv[1:]
    return args[: args.index("--")] if "--" in args else list(args)


def typed_values(option: str) -> list[str]:
    """Every value typed for ``option`` (``--db X`` or ``--db=X``)."""
    args = _typed_args()
    out = []
    for i, arg in enumerate(args):
        if arg == option and i + 1 < len(args):
            out.append(args[i + 1])
        elif arg.startswith(option + "="):
            out.append(arg[len(option) + 1:])
    return out


def _typed_as_folder(path: str) -> str | None:
    """How the user typed this path with a trailing slash (``--json out/``): the
    option it was given to (``""`` for an argument), or None if it was not typed so.
    The option's ``Path`` has dropped the slash, so look at the command line."""
    norm = os.path.normpath(path)
    args = _typed_args()
    for i, arg in enumerate(args):
        option, eq, value = arg.partition("=") if arg.startswith("-") else ("", "", arg)
        if not eq:
            option, value = "", arg
            if i > 0 and args[i - 1].startswith("-"):
                option = args[i - 1]
        if value.endswith(("/", os.sep)) and os.path.normpath(value) == norm:
            return option
    return None


def _named_as_folder(path: str) -> bool:
    """The user typed this path with a trailing slash (``--json out/``)."""
    return _typed_as_folder(path) is not None


def check_typed_paths(values: dict[str, Any]) -> None:
    """Refuse a path option typed with a trailing slash that names something other
    than a folder (``--trace good.csv/``, ``--db runs.db/``), as the system does
    (ENOTDIR): the ``Path`` has dropped the slash, and would read the file."""
    import stat as _stat

    for value in values.values():
        if not isinstance(value, os.PathLike):
            continue
        option = _typed_as_folder(os.fspath(value))
        if option is None:
            continue
        try:
            st = os.stat(value)
        except (OSError, ValueError):
            continue  # missing: each command says what it needs there
        if not _stat.S_ISDIR(st.st_mode):
            named = f"{option} " if option else ""
            die(f"{named}{os.fspath(value).rstrip('/')}/: not a directory (the name ends with '/', "
                "so it names a folder)")


def databases(protect: Any = None) -> list[Path]:
    """Every run database this command line could touch: ``protect``, the default
    database, ``$WATTWISE_DB`` and each ``--db`` typed."""
    from wattwise._paths import DEFAULT_ENV, user_dir

    found = [] if protect is None else [protect]
    found.append(user_dir("data") / "runs.db")
    found.append(os.environ.get(DEFAULT_ENV, "").strip())
    found.extend(typed_values("--db"))
    out: list[Path] = []
    for db in found:
        text = os.fspath(db)
        if text and "\x00" not in text:
            out.append(Path(text).expanduser())
    return out


def _database_of(path: Path, protect: Any) -> tuple[Path, str] | None:
    """The run database (and which of its files) that ``path`` is, if any."""
    for db in databases(protect):
        for suffix in ("", "-wal", "-shm", "-journal"):
            kept = db.with_name(db.name + suffix) if db.name else db
            if _same_file(path, kept):
                return db, suffix
    return None


#: Kernel file systems: their files look regular but a write is a command or an error.
_KERNEL_FS = ("/proc", "/sys")


def _check_not_kernel_fs(p: Path, what: str) -> None:
    """Refuse a path inside /proc or /sys, by its resolved name (links followed)."""
    try:
        real = os.path.realpath(p)
    except (OSError, ValueError):
        real = str(p)
    for root in _KERNEL_FS:
        if real == root or real.startswith(root + "/"):
            die(f"cannot write {what} {p}: it is in {root}, a kernel file system, not a "
                "place for files")


def check_output(path: Any, what: str = "output", *, protect: Any = None) -> None:
    """Refuse an output path that can't be written, before any work starts.

    Checked with ``stat`` and ``access`` only (nothing is created or opened), so
    a bad path costs nothing and records nothing: an empty name or one with a NUL
    byte, a missing folder, a directory, a FIFO or device (a write would block or
    vanish; ``/dev/stdout`` and ``/dev/full`` are not accepted either; ``-`` is a file
    name here: a command that takes it for standard output does so before this), a
    folder or file without write permission, a file of a kernel file system
    (``/proc``, ``/sys``: they take writes as commands or fail them after the
    work). An existing regular file is also opened for appending, without
    truncating it, and closed: the write it stands for can then be made.

    No output may overwrite a run database or its ``-wal``/``-shm``/``-journal``
    file: not ``protect``, nor the default database, ``$WATTWISE_DB`` or any
    ``--db`` on the command line, whatever the caller passes (so ``--no-store``,
    or a command that names no database, is covered too). The same file is found
    through symbolic and hard links (``st_dev``/``st_ino``), a path not yet
    there by its resolved name.
    """
    import stat as _stat

    if str(path) == "":
        die(f"{what} path is empty")
    if "\x00" in str(path):
        die(f"cannot write {what} {path!r}: the path contains a NUL byte")
    p = Path(path).expanduser()
    if _named_as_folder(str(path)):
        die(f"cannot write {what} {str(path).rstrip('/')}/: the name ends with '/', so it "
            "names a folder, not a file")
    parent = p.parent if str(p.parent) else Path(".")
    try:
        st = os.stat(p)
    except FileNotFoundError:
        st = None
    except (OSError, ValueError) as exc:
        die(f"cannot write {what} {p}: {getattr(exc, 'strerror', None) or exc}")
    from wattwise.whole_file import planted_link

    if planted_link(p):
        die(f"cannot write {what} {p}: it leads through a symbolic link owned by another "
            "user in a shared sticky folder (as /tmp), which is not followed")
    hit = _database_of(p, protect)
    if hit is not None:
        db, suffix = hit
        side = f" (its {suffix} file)" if suffix else ""
        die(f"cannot write {what} {p}: it is the run database {db}{side}")
    if st is not None:
        if _stat.S_ISDIR(st.st_mode):
            die(f"cannot write {what} {p}: it is a directory")
        if not _stat.S_ISREG(st.st_mode):
            die(f"cannot write {what} {p}: not a regular file (a FIFO or device?)")
        if not os.access(p, os.W_OK):
            die(f"cannot write {what} {p}: permission denied")
        _check_not_kernel_fs(p, what)
        try:  # a real open, as the write will make it; append mode changes no byte
            with open(p, "ab"):
                pass
        except OSError as exc:
            die(f"cannot write {what} {p}: {exc.strerror or exc}")
        return
    if os.path.islink(p):  # dangling: the write creates the link's target, chains too
        target = Path(os.path.realpath(p))
        if not target.parent.is_dir():
            die(f"cannot write {what} {p}: it is a symbolic link to {target}, whose "
                f"folder {target.parent} does not exist")
        parent = target.parent
    _check_not_kernel_fs(p, what)
    if not parent.is_dir():
        die(f"cannot write {what} {p}: folder {parent} does not exist")
    if not os.access(parent, os.W_OK | os.X_OK):
        die(f"cannot write {what} {p}: no permission to create files in {parent}")


def _same_file(a: Any, b: Any) -> bool:
    """One file: the same ``st_dev``/``st_ino`` when both exist (symbolic or hard
    links); else the same name once symbolic links are resolved."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        try:
            return os.path.realpath(a) == os.path.realpath(b)
        except (OSError, ValueError):
            return os.path.abspath(a) == os.path.abspath(b)
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _check_db_could_appear(p: Path) -> None:
    """Refuse a database that can never appear: its nearest existing folder above is a
    file (``--db run.csv/x``), so waiting for it would serve an empty page forever;
    it is in ``/proc`` or ``/sys``; it is a symbolic link whose target's folder does
    not exist; or its name can't be looked at (too long, a loop)."""
    import stat as _stat

    try:
        os.stat(p)
    except (FileNotFoundError, NotADirectoryError):  # the walk below says which
        pass
    except (OSError, ValueError) as exc:
        die(f"--db {p}: cannot look at it: {getattr(exc, 'strerror', None) or exc}")
    try:
        real = Path(os.path.realpath(p))
    except (OSError, ValueError) as exc:
        die(f"--db {p}: cannot look at it: {getattr(exc, 'strerror', None) or exc}")
    for root in _KERNEL_FS:
        if str(real) == root or str(real).startswith(root + "/"):
            die(f"--db {p}: it is in {root}, a kernel file system, where no database can be")
    if os.path.islink(p) and not real.parent.is_dir():
        die(f"--db {p}: it is a symbolic link to {real}, whose folder {real.parent} "
            "does not exist")
    for above in p.absolute().parents:
        try:
            st = os.stat(above)
        except (FileNotFoundError, NotADirectoryError):  # a file further up says which
            continue
        except OSError as exc:
            die(f"--db {p}: cannot look at {above}: {exc.strerror or exc}")
        if not _stat.S_ISDIR(st.st_mode):
            die(f"--db {p}: {above} is not a folder, so no database can ever be there")
        return


def _absent(p: Path) -> bool:
    """Whether nothing is at ``p`` (a name too long or a loop counts as there: the
    store says it in one line)."""
    try:
        os.stat(p)
    except FileNotFoundError:
        return True
    except (OSError, ValueError):
        return False
    return False


def _missing_folder(p: Path) -> Path | None:
    """The folder of a database ``p`` that is not there and would hold it, or None (a
    link's target's: SQLite makes the file there)."""
    parent = Path(os.path.realpath(p)).parent if os.path.islink(p) \
        else p.parent if str(p.parent) else Path(".")
    return parent if _absent(p) and not parent.is_dir() else None


def _check_env_db_folder() -> None:
    """``$WATTWISE_DB`` in a folder that does not exist: refused, as ``--db`` is."""
    from wattwise._paths import DEFAULT_ENV, default_db_path

    if not os.environ.get(DEFAULT_ENV, "").strip():
        return
    p = default_db_path()
    if (parent := _missing_folder(p)) is not None:
        die(f"{DEFAULT_ENV}={p}: folder {parent} does not exist (it is not created for "
            f"{DEFAULT_ENV}, as for --db)")


def _check_env_db_file() -> None:
    """``$WATTWISE_DB`` naming no database, for a view that reads it: refused, as ``--db``
    is (a typo read as "no runs recorded yet", exit 0)."""
    from wattwise._paths import DEFAULT_ENV, default_db_path

    if os.environ.get(DEFAULT_ENV, "").strip() and _absent(p := default_db_path()):
        die(f"no run database at {p} (from {DEFAULT_ENV}; nothing recorded there yet)")


def check_db_option(db: Any, *, need: str) -> None:
    """``--db`` as typed: not empty, no NUL byte, no trailing slash, and by ``need``:

    - ``"file"`` (a view that reads it): the database must be there; a typo is an
      error, not "no runs yet";
    - ``"folder"`` (a command that records in it): its folder must be there, as for
      any output file: nothing creates it;
    - ``"name"`` (the dashboard, which waits for a database to appear): its folder must
      be there, as for a command that records (none would create it, so nothing could
      ever appear), and it must be a place a file can be.

    Without ``--db``, ``$WATTWISE_DB`` gets the same "file" and "folder" checks, so
    the variable and the option agree (the library's
    ``Store()`` still creates the folders for a caller that sets the variable).
    The user data folder (neither given) is not checked: it is created when a run
    records, and a reader says there are no runs yet."""
    from wattwise._userinput import shown

    if db is None:
        if need in ("folder", "name"):
            _check_env_db_folder()
        elif need == "file":
            _check_env_db_file()
        return
    text = os.fspath(db)
    if text == "":
        die("--db is empty")
    if "\x00" in text:
        die(f"--db {shown(text)}: the path contains a NUL byte")
    p = Path(text).expanduser()
    from wattwise.records.database import not_a_file_name

    why = not_a_file_name(str(p))
    if why is not None:
        die(f"--db {text}: {why}")
    if _named_as_folder(text):
        die(f"--db {text.rstrip('/')}/: the name ends with '/', so it names a folder, not a "
            "database file")
    if need == "name":
        _check_db_could_appear(p)
    if not _absent(p):
        return
    if need == "file":
        die(f"no run database at {p} (nothing recorded there yet)")
    if (parent := _missing_folder(p)) is not None:
        die(f"--db {p}: folder {parent} does not exist (it is not created for --db)")


def write_output(path: Any, text: str, what: str = "output", *, fatal: bool = True) -> bool:
    """Write ``text`` to ``path`` (checked before by ``check_output``).

    If the write still fails (disk full, a race), say so in one line: with
    ``fatal`` exit 2; without it (after a measured job, whose exit code must pass
    through unchanged) return False and let the caller go on. A lone surrogate in
    ``text`` (an undecodable byte of a recorded name) is written as its escape: the
    file can always hold the text. Written whole or not at all (``whole_file``): a failed
    write leaves the file that was there as it was.
    """
    from wattwise.whole_file import write_whole

    try:
        write_whole(path, text)
        return True
    except (OSError, ValueError) as exc:
        message = f"cannot write {what} {path}: {getattr(exc, 'strerror', None) or exc}"
        if fatal:
            die(message)
        say("error", message)
        return False

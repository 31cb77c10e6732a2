"""Atomic file writes: write a temporary file in the target folder, then ``os.replace``.

A reader never sees a half-written output: either the old file or the complete new one. If the
writer fails with an exception the temporary file is removed; if the process is killed the old
file is still intact and the orphaned temporary file (named ``.<name>.tmp-<pid>-<token><suffix>``)
is removed by :func:`cleanup_stale_temps`, which every atomic write of the same target calls first.
An :class:`OSError` raised while writing (disk full, permission denied) always names the target
file (``exc.filename``), never an empty name or only the temporary file.

A whole output folder is replaced the same way by :func:`staged_folder`: every file is written into
a sibling staging folder ``<name>.partial-<pid>`` which, once complete, is swapped into place; a run
that fails midway leaves the previous folder complete and untouched.

:data:`FIXED_TIMESTAMP` is the date written wherever a file format wants a creation or change time
(workbook properties and zip entries, GeoPackage ``last_change``), so that identical inputs give
byte-identical files; wall-clock times belong in ``manifest.json`` only.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import os
import re
import secrets
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from layout.errors import SchoolPlanError

FIXED_TIMESTAMP = datetime(2000, 1, 1, tzinfo=UTC)
"""Creation/change time written into output files (reproducible outputs, see the module doc)."""

_TEMP_RE = re.compile(r"^\.(?P<name>.+)\.tmp-(?P<pid>\d+)-[0-9a-f]{8}(?P<suffix>\.[^.]*)?$")


def temp_path_for(path: Path) -> Path:
    """Return a fresh temporary path next to ``path`` (same folder, same suffix).

    Parameters
    ----------
    path : pathlib.Path
        Final destination.

    Returns
    -------
    pathlib.Path
        ``<folder>/.<name>.tmp-<pid>-<random><suffix>``; keeping the suffix lets libraries that
        pick a format from the extension (openpyxl, pyogrio) write it.

    """
    token = secrets.token_hex(4)
    return path.with_name(f".{path.name}.tmp-{os.getpid()}-{token}{path.suffix}")


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def cleanup_stale_temps(folder: Path, name: str | None = None) -> list[Path]:
    """Remove temporary files left by killed writers in ``folder``.

    Parameters
    ----------
    folder : pathlib.Path
        Folder to clean.
    name : str, optional
        Only clean temporaries of this target file name; all targets if None.

    Returns
    -------
    list of pathlib.Path
        The files removed. Temporaries of writers still running are kept.

    """
    removed: list[Path] = []
    if not folder.is_dir():
        return removed
    for entry in folder.iterdir():
        match = _TEMP_RE.match(entry.name)
        if match is None or (name is not None and match["name"] != name):
            continue
        if _pid_alive(int(match["pid"])):
            continue
        with contextlib.suppress(FileNotFoundError):
            entry.unlink()
            removed.append(entry)
    return removed


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path to write; on success move it over ``path`` atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination. Its folder is created if missing.

    Yields
    ------
    pathlib.Path
        Where the caller writes the complete file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_path(target) as tmp:
    ...     _ = tmp.write_text("hello")
    >>> target.read_text()
    'hello'

    """
    final = Path(path)
    final.parent.mkdir(parents=True, exist_ok=True)
    cleanup_stale_temps(final.parent, final.name)
    tmp = temp_path_for(final)
    try:
        yield tmp
        if not tmp.exists():
            raise FileNotFoundError(errno.ENOENT, "the writer did not create the file", str(final))
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        if isinstance(exc, OSError):
            _name_target(exc, final, tmp)
        raise


def _name_target(exc: OSError, final: Path, tmp: Path) -> None:
    """Make ``exc.filename`` name the target file when it is empty or the temporary file.

    An ``OSError`` without an errno (``OSError("message")``) would print badly with a file name
    attached; it gets the note ``while writing <target>`` instead.
    """
    if exc.errno is None:
        note = f"while writing {final}"
        if note not in getattr(exc, "__notes__", []):
            exc.add_note(note)
    elif not exc.filename or str(exc.filename) == str(tmp):
        exc.filename = str(final)


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically and return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def write_text_atomic(
    path: str | os.PathLike[str], text: str, encoding: str = "utf-8"
) -> Path:
    """Write ``text`` to ``path`` atomically (``newline`` untranslated) and return the path."""
    return write_bytes_atomic(path, text.encode(encoding))


# --- whole output folders -------------------------------------------------------------------------

MARKER_FILE = "manifest.json"
"""A folder holding this file is an output folder that :func:`staged_folder` may replace."""

_STAGE_RE = re.compile(r"^(?P<name>.+)\.(?P<kind>partial|old)-(?P<pid>\d+)$")
_AT_FDCWD = -100
_RENAME_EXCHANGE = 2


class OutputFolderError(SchoolPlanError):
    """The output folder cannot be replaced (e.g. it holds files that are not a run's outputs)."""


def _exchange(a: Path, b: Path) -> bool:
    """Swap two existing paths atomically (Linux ``renameat2(RENAME_EXCHANGE)``).

    Returns False, having changed nothing, where the system or file system cannot do it.
    """
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p,
                          ctypes.c_uint]  # fmt: skip
    if renameat2(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.ENOSYS, errno.EINVAL, errno.EOPNOTSUPP, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_into_place(stage: Path, final: Path) -> None:
    """Replace the folder ``final`` by the complete folder ``stage`` and delete the old one.

    Where the system allows it the two folders are exchanged in one atomic step; otherwise the
    old folder is renamed aside (``<name>.old-<pid>``), ``stage`` renamed to ``final`` (the old
    folder is put back if that fails) and the old folder removed.
    """
    if not final.exists():
        os.rename(stage, final)
        return
    if _exchange(stage, final):
        shutil.rmtree(stage, ignore_errors=True)
        return
    old = final.with_name(f"{final.name}.old-{os.getpid()}")
    os.rename(final, old)
    try:
        os.rename(stage, final)
    except BaseException:
        os.rename(old, final)
        raise
    shutil.rmtree(old, ignore_errors=True)


def cleanup_stale_stages(final: Path) -> list[Path]:
    """Tidy what killed runs left next to ``final``: staging folders and set-aside old folders.

    A set-aside ``<name>.old-<pid>`` of a dead process is moved back to ``final`` when ``final``
    is missing (the run died between the two renames of :func:`swap_into_place`), else removed.

    Returns
    -------
    list of pathlib.Path
        The folders removed or restored.

    """
    handled: list[Path] = []
    if not final.parent.is_dir():
        return handled
    for entry in sorted(final.parent.iterdir()):
        match = _STAGE_RE.match(entry.name)
        if match is None or match["name"] != final.name or _pid_alive(int(match["pid"])):
            continue
        if match["kind"] == "old" and not final.exists():
            os.rename(entry, final)
        else:
            shutil.rmtree(entry, ignore_errors=True)
        handled.append(entry)
    return handled


def _check_replaceable(final: Path, marker: str) -> None:
    if not final.exists():
        return
    if not final.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "the output path is not a folder", str(final))
    if final.samefile(Path.cwd()) or Path.cwd().resolve().is_relative_to(final.resolve()):
        raise OutputFolderError(f"{final}: the output folder must not be the current folder or "
                                "one of its parents; choose a new or an output folder")
    if any(final.iterdir()) and not (final / marker).is_file():
        raise OutputFolderError(
            f"{final}: the folder is not empty and holds no {marker}, so it is not an output "
            "folder of schoolplan; it would be replaced as a whole — choose a new or empty folder")


@contextlib.contextmanager
def staged_folder(path: str | os.PathLike[str], marker: str = MARKER_FILE) -> Iterator[Path]:
    """Yield a staging folder to fill; on success it replaces the folder ``path`` as a whole.

    The staging folder is the sibling ``<name>.partial-<pid>`` (same file system, so the final
    step is a rename). If the body raises (or the process dies), ``path`` keeps the previous
    outputs complete and untouched and the staging folder is removed (by the next run if the
    process was killed).

    Parameters
    ----------
    path : str or os.PathLike
        The output folder. If it exists it must be empty or an earlier output folder (holding
        ``marker``), because the whole folder is replaced: other files would be lost.
    marker : str
        File that marks an output folder (default ``manifest.json``).

    Yields
    ------
    pathlib.Path
        The staging folder (empty, created).

    Raises
    ------
    OutputFolderError
        If ``path`` holds files and no ``marker``, or is the current folder or one of its parents.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> out = pathlib.Path(tempfile.mkdtemp()) / "run"
    >>> with staged_folder(out) as stage:
    ...     _ = (stage / "manifest.json").write_text("{}")
    >>> sorted(p.name for p in out.iterdir()), sorted(p.name for p in out.parent.iterdir())
    (['manifest.json'], ['run'])

    """
    final = Path(os.path.abspath(path))
    final.parent.mkdir(parents=True, exist_ok=True)
    cleanup_stale_stages(final)
    _check_replaceable(final, marker)
    stage = final.with_name(f"{final.name}.partial-{os.getpid()}")
    shutil.rmtree(stage, ignore_errors=True)
    stage.mkdir()
    try:
        yield stage
        swap_into_place(stage, final)
    except OSError as exc:
        shutil.rmtree(stage, ignore_errors=True)
        # name the file the user asked for, not its staging copy
        name = os.fspath(exc.filename) if exc.filename is not None else ""
        if name.startswith(os.fspath(stage)):
            exc.filename = os.fspath(final) + name[len(os.fspath(stage)):]
        raise
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise

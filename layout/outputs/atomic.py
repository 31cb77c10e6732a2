"""Atomic file writes: write a temporary file in the target folder, then ``os.replace``.

A reader never sees a half-written output: either the old file or the complete new one. If the
writer fails with an exception the temporary file is removed; if the process is killed the old
file is still intact and the orphaned temporary file (named ``.<name>.tmp-<pid>-<token><suffix>``)
is removed by :func:`cleanup_stale_temps`, which every atomic write of the same target calls first.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path

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
            raise FileNotFoundError(f"writer did not create {tmp}")
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


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

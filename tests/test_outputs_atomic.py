"""Atomic writes: a failed or killed writer leaves the previous file intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from layout.outputs.atomic import atomic_path, cleanup_stale_temps, write_text_atomic

SLOW_WRITER = r"""
import sys, time
from layout.outputs.atomic import atomic_path
target = sys.argv[1]
with atomic_path(target) as tmp:
    with open(tmp, "w") as fh:
        fh.write("PARTIAL")
        fh.flush()
        print("writing", flush=True)
        time.sleep(60)
        fh.write(" never finished")
"""

EXIT_WRITER = r"""
import os, sys
from layout.outputs.atomic import atomic_path
with atomic_path(sys.argv[1]) as tmp:
    tmp.write_text("PARTIAL")
    os._exit(3)
"""


def _run(code: str, target: Path) -> subprocess.Popen:
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    return subprocess.Popen([sys.executable, "-c", code, str(target)], stdout=subprocess.PIPE,
                            text=True, env=env)  # fmt: skip


def test_killed_writer_leaves_old_file(tmp_path):
    target = tmp_path / "layout.xlsx"
    target.write_text("OLD")
    proc = _run(SLOW_WRITER, target)
    assert proc.stdout.readline().strip() == "writing"
    temps = [p for p in tmp_path.iterdir() if p != target]
    assert len(temps) == 1  # the writer really is mid-write in the same folder
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=10)
    assert target.read_text() == "OLD"
    removed = cleanup_stale_temps(tmp_path)
    assert removed == temps
    assert list(tmp_path.iterdir()) == [target]


def test_os_exit_mid_write_and_next_write_cleans_up(tmp_path):
    target = tmp_path / "map.html"
    target.write_text("OLD")
    proc = _run(EXIT_WRITER, target)
    assert proc.wait(timeout=30) == 3
    assert target.read_text() == "OLD"
    assert len(list(tmp_path.iterdir())) == 2  # orphan temp left by the dead process
    write_text_atomic(target, "NEW")  # the next write of the same target removes it
    assert target.read_text() == "NEW"
    assert list(tmp_path.iterdir()) == [target]


def test_exception_removes_temp_and_keeps_old(tmp_path):
    target = tmp_path / "a.csv"
    target.write_text("OLD")

    def failing_write() -> None:
        with atomic_path(target) as tmp:
            tmp.write_text("HALF")
            raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        failing_write()
    assert target.read_text() == "OLD"
    assert list(tmp_path.iterdir()) == [target]


def test_running_writers_temp_is_not_removed(tmp_path):
    target = tmp_path / "b.txt"
    proc = _run(SLOW_WRITER, target)
    try:
        assert proc.stdout.readline().strip() == "writing"
        assert cleanup_stale_temps(tmp_path) == []
        assert len(list(tmp_path.iterdir())) == 1
    finally:
        proc.kill()
        proc.wait(timeout=10)
    time.sleep(0.05)
    assert len(cleanup_stale_temps(tmp_path)) == 1

"""Progress bars: shown in a terminal or when forced, silent in a pipe or when turned off."""

import fcntl
import os
import pty
import struct
import subprocess
import sys
import termios

import numpy as np
import pytest

from fastbip._progress import enabled, progress

pytest.importorskip("tqdm")

_SCRIPT = """
import time
from fastbip._progress import progress
for _ in progress(range(3), desc="working-bar", enable={enable}):
    time.sleep(0.05)
"""


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k != "FASTBIP_PROGRESS"}
    env.update(extra)
    env["PYTHONPATH"] = os.getcwd() + os.pathsep + env.get("PYTHONPATH", "")
    return env


def _run_in_pty(script, env):
    """stderr of ``python -c script`` run with its stderr on a pseudo-terminal."""
    master, slave = pty.openpty()
    # a terminal of 24 x 100 characters (a fresh pty has size 0 x 0: no room for a bar)
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    proc = subprocess.Popen(
        [sys.executable, "-c", script], stdout=subprocess.DEVNULL, stderr=slave, env=env
    )
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # the child closed its end
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    return b"".join(chunks).decode(errors="replace")


def test_shows_in_a_terminal():
    out = _run_in_pty(_SCRIPT.format(enable=None), _env())
    assert "working-bar" in out
    assert "0/3" in out  # the bar, with its total


def test_silent_in_a_terminal_when_turned_off():
    assert "working-bar" not in _run_in_pty(_SCRIPT.format(enable=False), _env())
    assert "working-bar" not in _run_in_pty(_SCRIPT.format(enable=None), _env(FASTBIP_PROGRESS="0"))


def test_silent_in_a_pipe_and_forced_on_by_the_environment():
    def run(**extra):
        res = subprocess.run(
            [sys.executable, "-c", _SCRIPT.format(enable=None)],
            capture_output=True,
            text=True,
            env=_env(**extra),
            check=True,
        )
        return res.stderr

    assert run() == ""
    assert "working-bar" in run(FASTBIP_PROGRESS="1")


@pytest.mark.parametrize(
    "env, arg, expected",
    [
        ("1", None, True),
        ("1", True, True),
        ("1", False, False),
        ("0", True, False),
        ("0", None, False),
        (None, False, False),
    ],
)
def test_enabled_table(monkeypatch, env, arg, expected):
    if env is None:
        monkeypatch.delenv("FASTBIP_PROGRESS", raising=False)
    else:
        monkeypatch.setenv("FASTBIP_PROGRESS", env)
    assert enabled(arg) is expected


def test_without_tqdm_there_is_no_bar(monkeypatch, capsys):
    monkeypatch.setenv("FASTBIP_PROGRESS", "1")
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    assert list(progress(range(4), desc="no-tqdm")) == [0, 1, 2, 3]
    assert "no-tqdm" not in capsys.readouterr().err


def _planted(seed=0):

    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2, 300)
    b = rng.integers(0, 2, 80)
    om = np.array([[900.0, 100.0], [100.0, 900.0]])
    return a, b, om


def test_library_functions_show_progress_only_when_asked(monkeypatch, capsys):
    from fastbip.algorithms import DCSBM
    from fastbip.algorithms.select import select_k
    from fastbip.generate import sample_purchases

    a, b, om = _planted()
    args = (a, b, np.ones(a.size), np.ones(b.size), om)
    monkeypatch.setenv("FASTBIP_PROGRESS", "1")
    M = sample_purchases(*args, seed=1)
    err = capsys.readouterr().err
    assert "purchases" in err
    assert np.array_equal(sample_purchases(*args, seed=1, progress=False).toarray(), M.toarray())
    assert capsys.readouterr().err == ""

    DCSBM(2, 2, random_state=0).fit(M)
    assert "DCSBM sweeps" in capsys.readouterr().err
    DCSBM(2, 2, random_state=0, progress=False).fit(M)
    assert capsys.readouterr().err == ""

    select_k(M, [1, 2], [2], random_state=0)
    err = capsys.readouterr().err
    assert "select_k" in err and "DCSBM sweeps" not in err
    monkeypatch.setenv("FASTBIP_PROGRESS", "0")
    select_k(M, [1, 2], [2], random_state=0)
    sample_purchases(*args, seed=1)
    assert capsys.readouterr().err == ""


def test_recovery_sweep_bar_and_callback(monkeypatch, capsys):
    from fastbip.study import recovery_sweep

    monkeypatch.setenv("FASTBIP_PROGRESS", "1")
    rows = []
    recovery_sweep(
        200,
        60,
        2,
        2,
        10.0,
        [0.1],
        [0, 1],
        algorithms=["kmeans"],
        oracle=False,
        progress=rows.append,
    )
    assert "recovery sweep" in capsys.readouterr().err
    assert len(rows) == 4  # 2 seeds x 1 algorithm x 2 sides: the callback still runs
    recovery_sweep(
        200, 60, 2, 2, 10.0, [0.1], [0], algorithms=["kmeans"], oracle=False, progress=False
    )
    assert capsys.readouterr().err == ""

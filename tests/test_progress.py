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


# --- save, load and Dask ---------------------------------------------------------------------

_IO_SCRIPT = """
import os, sys, tempfile
from fastbip.generate import generate
from fastbip.io import load, save
from fastbip.spec import default_spec
ds = generate(default_spec(n_people=600, n_items=150, seed=5), progress=False)
path = os.path.join(tempfile.mkdtemp(), "d.fbp")
save(ds, path, progress={enable})
back = load(path, progress={enable})
assert back.purchases.nnz == ds.purchases.nnz
"""

_DASK_SCRIPT = """
import sys
import numpy as np
import distributed
from fastbip.distributed import dcsbm_sweeps_dask, generate_dask, generate_purchases_dask
from fastbip.spec import planted_spec
if __name__ == "__main__":
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \\
            distributed.Client(cluster) as client:
        a = np.repeat([0, 1], 100); b = np.repeat([0, 1], 40)
        om = np.array([[900.0, 100.0], [100.0, 900.0]])
        for enable in (None, False):  # a bar, then none
            M = generate_purchases_dask(a, b, np.ones(200), np.ones(80), om, seed=1,
                                        blocks_per_task=1, block_size=64, progress=enable)
            sds = generate_dask(planted_spec(2100, 100, 2, 2, seed=2), client=client,
                                blocks_per_shard=1, progress=enable)
            k = sds.truth.omega.shape
            init = (sds.truth.people_labels, sds.truth.item_labels)
            dcsbm_sweeps_dask(sds, k[0], k[1], init, max_sweeps=2, progress=enable)
            sys.stderr.write("-- progress=False --")
            sys.stderr.flush()
        assert M.shape == (200, 80)
"""


def _pipe_stderr(script, **extra):
    res = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=_env(**extra)
    )
    assert res.returncode == 0, res.stderr
    return res.stderr


@pytest.mark.slow
def test_save_and_load_show_progress_in_a_terminal_and_not_in_a_pipe():
    out = _run_in_pty(_IO_SCRIPT.format(enable=None), _env())
    assert "save:" in out and "load:" in out
    assert "B/s" in out or "kB" in out or "B " in out  # a bar of bytes
    off = _run_in_pty(_IO_SCRIPT.format(enable=False), _env())
    assert "save:" not in off and "load:" not in off
    assert "save:" not in _run_in_pty(_IO_SCRIPT.format(enable=None), _env(FASTBIP_PROGRESS="0"))
    assert _pipe_stderr(_IO_SCRIPT.format(enable=None)) == ""


@pytest.mark.slow
def test_dask_work_shows_progress_in_a_terminal_and_not_in_a_pipe():
    pytest.importorskip("distributed")
    shown, off, _ = _run_in_pty(_DASK_SCRIPT, _env()).split("-- progress=False --")
    assert "generate (dask)" in shown and "shard" in shown
    assert "DCSBM sweeps (dask)" in shown
    assert "generate (dask)" not in off and "DCSBM sweeps" not in off
    err = _pipe_stderr(_DASK_SCRIPT)
    assert "generate (dask)" not in err and "DCSBM sweeps" not in err


def test_sharded_load_and_gather_bars(monkeypatch, capsys, tmp_path):
    """A sharded directory (written shard by shard as the workers write it): load with
    verify and to_dataset each show a bar of the shards, and none with progress=False."""
    import fastbip.io.sharded as fsh
    from fastbip.generate import generate
    from fastbip.spec import default_spec

    ds = generate(default_spec(n_people=300, n_items=80, seed=3), progress=False)
    bounds = [0, 100, 200, 300]
    fsh.write_base(tmp_path, ds.people, ds.items, ds.truth, ds.spec)
    shards = []
    for i, (r0, r1) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
        part = ds.purchases[r0:r1]
        entry = fsh.write_shard(tmp_path, i, fsh.shard_arrays(part, None))
        shards.append({"rows": [r0, r1], "nnz": part.nnz, "purchases": int(part.sum()), **entry})
    n_draws = int(ds.purchases.sum())
    fsh.write_manifest(
        tmp_path,
        shape=ds.purchases.shape,
        spec=ds.spec,
        shards=shards,
        n_draws=n_draws,
        events=False,
        block_size=1024,
    )
    monkeypatch.setenv("FASTBIP_PROGRESS", "1")
    capsys.readouterr()
    sds = fsh.load_sharded(tmp_path, verify=True)
    assert "load:" in capsys.readouterr().err
    back = sds.to_dataset()
    assert "gather:" in capsys.readouterr().err
    assert (back.purchases != ds.purchases).nnz == 0
    fsh.load_sharded(tmp_path, verify=True, progress=False).to_dataset(progress=False)
    assert capsys.readouterr().err == ""

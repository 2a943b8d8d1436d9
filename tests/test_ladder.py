"""The difficulty ladder (fastbip.study.ladder), its leaderboard and ``fastbip bench recovery``."""

import json
import math

import pytest

from fastbip.cli import main
from fastbip.study import Results, ladder
from fastbip.study.ladder import Ladder, format_leaderboard, leaderboard, run_ladder

TINY = Ladder(300, 150, (2,), (20.0,), (3.0, 12.0), seeds=(0, 1))
T_975_2 = 4.302652729911275  # Student t quantile 0.975 with 2 degrees of freedom (tables)


def _row(algorithm, seed, snr, ari, error=None, seconds=0.5):
    return {
        "algorithm": algorithm,
        "seed": seed,
        "target_snr": snr,
        "ari": ari,
        "seconds": seconds,
        "error": error,
    }


def test_the_interval_on_known_numbers():
    # per-seed means of "a" (two rungs each): 0.2, 0.4, 0.6 -> mean 0.4, sd 0.2
    rows = [
        _row("a", 0, 1.0, 0.1),
        _row("a", 0, 5.0, 0.3),
        _row("a", 1, 1.0, 0.3),
        _row("a", 1, 5.0, 0.5),
        _row("a", 2, 1.0, 0.5),
        _row("a", 2, 5.0, 0.7),
        # "b" fails once at seed 2: that fit counts 0, so its per-seed means are 0.8, 0.8, 0.4
        *(_row("b", s, t, 0.8) for s in (0, 1) for t in (1.0, 5.0)),
        _row("b", 2, 1.0, 0.8),
        _row("b", 2, 5.0, float("nan"), error="RuntimeError: no"),
        *(_row("oracle", s, t, 1.0) for s in (0, 1, 2) for t in (1.0, 5.0)),
    ]
    board = leaderboard(rows)
    assert [b["algorithm"] for b in board] == ["oracle", "b", "a"]
    a = board[2]
    assert a["ari"] == pytest.approx(0.4)
    assert a["ci"] == pytest.approx(T_975_2 * 0.2 / math.sqrt(3), rel=1e-9)
    assert a["by_snr"][1.0]["ari"] == pytest.approx(0.3)  # 0.1, 0.3, 0.5
    assert a["by_snr"][1.0]["ci"] == pytest.approx(T_975_2 * 0.2 / math.sqrt(3), rel=1e-9)
    b = board[1]
    assert b["ari"] == pytest.approx(2.0 / 3.0)
    sd = math.sqrt(((0.8 - 2 / 3) ** 2 * 2 + (0.4 - 2 / 3) ** 2) / 2)
    assert b["ci"] == pytest.approx(T_975_2 * sd / math.sqrt(3), rel=1e-9)
    assert (b["failed"], b["fits"], b["n_seeds"]) == (1, 6, 3)
    assert b["of_oracle"] == pytest.approx(2.0 / 3.0) and board[0]["ci"] == 0.0
    one_seed = leaderboard([_row("a", 0, 1.0, 0.5)])
    assert one_seed[0]["ari"] == 0.5 and math.isnan(one_seed[0]["ci"])
    text = format_leaderboard(board)
    assert text.splitlines()[2].split()[:2] == ["ceiling", "oracle"]
    assert text.splitlines()[3].split()[:3] == ["1", "b", "0.667"]
    assert "1/6" in text and "t(0.975, n-1)" in text


def test_a_run_has_the_oracle_the_baselines_and_a_module_class_estimator():
    tiny = TINY.with_(snrs=(3.0, 1000.0))  # 1000 is out of reach: skipped for everyone
    run = run_ladder(["tests._fake:Est"], tiny, baselines=["svd-kmeans"])
    assert [s["snr"] for s in run.skipped] == [1000.0]
    assert "cannot be reached" in run.skipped[0]["reason"]
    names = [e.algorithm for e in run.results.entries]
    assert names == ["oracle", "oracle", "svd-kmeans", "svd-kmeans", "Est", "Est"] * 2
    assert {r["target_snr"] for r in run.rows} == {3.0}
    assert all(r["snr"] == pytest.approx(3.0, rel=0.01) for r in run.rows)
    board = {b["algorithm"]: b for b in leaderboard(run.rows)}
    assert set(board) == {"oracle", "svd-kmeans", "Est"}
    assert board["oracle"]["ari"] > board["Est"]["ari"]  # the oracle is the ceiling
    d = json.loads(run.to_json())
    assert [b["algorithm"] for b in d["leaderboard"]][0] == "oracle"
    back = Results.from_json(run.to_json())  # the rows are Results rows, with their rung
    assert len(back) == len(run.results) and d["rows"][0]["k"] == 2


def test_a_repeated_algorithm_runs_once_and_a_clash_is_numbered():
    from tests._fake import Est

    run = run_ladder(
        {"svd-kmeans": None, "dcsbm": Est()}, TINY.with_(snrs=(12.0,), seeds=(0,)), oracle=False
    )
    names = [e.algorithm for e in run.results.entries[::2]]
    assert names == ["dcsbm", "svd-kmeans", "spectral-cocluster", "dcsbm#2"]


def test_bench_recovery_quick_with_a_users_estimator(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(ladder, "QUICK", TINY.with_(seeds=(5,)))  # --seeds replaces them
    out = tmp_path / "rows.json"
    argv = ["bench", "recovery", "--algorithm", "tests._fake:Est", "--quick", "--out", str(out)]
    argv += ["--seeds", "0,1"]
    assert main([*argv, "--algorithm", "tests._fake:NoColumns"]) == 1  # a fit failed
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].startswith("difficulty ladder: 300 people x 150 items")
    ranked = [line.split()[1] for line in lines[3:8]]
    assert ranked[0] == "oracle" and lines[3].split()[0] == "ceiling"
    assert set(ranked) == {"oracle", "dcsbm", "svd-kmeans", "spectral-cocluster", "Est"}
    nocols = next(line for line in lines if line.split()[1:2] == ["NoColumns"])
    assert nocols.split()[-1] == "8/8"  # 2 rungs x 2 seeds x 2 sides, every one failed
    assert "NoColumns failed: AttributeError: NoColumns.fit did not set column_labels_" in text
    d = json.loads(out.read_text())
    assert d["ladder"]["seeds"] == [0, 1] and d["interval"].startswith("95% t interval")
    assert {b["algorithm"] for b in d["leaderboard"]} >= {"Est", "oracle"}
    assert main(["bench", "recovery", "--quick", "--seeds", "0,x"]) == 2
    assert "--seeds takes integers >= 0" in capsys.readouterr().err
    assert main(["bench", "recovery", "--algorithm", "tests._fake:Nope", "--quick"]) == 2
    assert "has no 'Nope'" in capsys.readouterr().err


def test_the_plugin_ladder_is_the_ladder_modules():
    from fastbip.testing import plugin

    assert plugin.LADDER == tuple(ladder.PLUGIN.rungs())
    assert [r["snr"] for r in plugin.LADDER] == [1.5, 3.0, 6.0, 12.0]


def test_bench_recovery_report_draws_ari_against_snr(tmp_path, capsys, monkeypatch):
    pytest.importorskip("matplotlib")
    monkeypatch.setattr(ladder, "QUICK", TINY.with_(seeds=(0,)))
    page = tmp_path / "ladder.html"
    argv = ["bench", "recovery", "--quick", "--report", str(page)]
    assert main([*argv, "--algorithms", "svd-kmeans"]) == 0
    html = page.read_text()
    assert "ARI against the signal-to-noise ratio" in html
    assert "Items: recovery against difficulty" in html
    assert main(["bench", "recovery", "--report", str(tmp_path / "x.html")]) == 2
    assert "--report draws the ladder's page" in capsys.readouterr().err
    assert main(["bench", "recovery", "--quick", "--report", str(tmp_path)]) == 2

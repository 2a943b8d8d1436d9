"""Bad command lines, one row each: exit code 2, one line ``fastbip: error: ...`` on stderr
naming the argument or file, no traceback, and nothing done before the error."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from fastbip import cli
from fastbip.cli import main
from fastbip.spec import default_spec

HUGE = str(10**12)

# (id, argv with {placeholders}, a piece of the message that names the argument or file)
CASES = [
    ("no-command", [], "command"),
    ("unknown-command", ["nope"], "'nope'"),
    ("unknown-flag", ["demo", "--bogus"], "--bogus"),
    ("n-people-zero", ["demo", "--n-people", "0"], "--n-people"),
    ("n-people-negative", ["demo", "--n-people", "-5"], "--n-people"),
    ("n-people-text", ["demo", "--n-people", "abc"], "--n-people"),
    ("n-people-float", ["demo", "--n-people", "1.5"], "--n-people"),
    ("n-items-zero", ["demo", "--n-items", "0"], "--n-items"),
    ("seed-negative", ["demo", "--seed", "-1"], "--seed"),
    ("mixing-without-planted", ["demo", "--mixing", "0.3"], "--mixing"),
    ("k-people-without-planted", ["demo", "--k-people", "3"], "--k-people"),
    ("k-items-without-planted", ["demo", "--k-items", "3"], "--k-items"),
    ("mean-without-planted", ["demo", "--mean-purchases", "5"], "--mean-purchases"),
    ("ratio-without-planted", ["demo", "--ratio", "4"], "--ratio"),
    (
        "two-without-planted",
        ["generate", "--out", "{new}", "--ratio", "4", "--mixing", "1"],
        "--mixing, --ratio",
    ),
    ("mixing-above-one", ["demo", "--planted", "--mixing", "2"], "--mixing"),
    ("mixing-inf", ["demo", "--planted", "--mixing", "inf"], "--mixing"),
    ("k-people-zero", ["demo", "--planted", "--k-people", "0"], "--k-people"),
    ("k-items-text", ["demo", "--planted", "--k-items", "x"], "--k-items"),
    ("mean-zero", ["demo", "--planted", "--mean-purchases", "0"], "--mean-purchases"),
    ("ratio-negative", ["demo", "--planted", "--ratio", "-1"], "--ratio"),
    ("ratio-nan", ["demo", "--planted", "--ratio", "nan"], "--ratio"),
    ("spec-and-planted", ["demo", "--spec", "{spec}", "--planted"], "--spec and --planted"),
    ("spec-directory", ["demo", "--spec", "{dir}"], "--spec '{dir}' is a directory"),
    ("spec-missing", ["demo", "--spec", "{missing}"], "'{missing}' does not exist"),
    ("spec-suffix", ["demo", "--spec", "{yaml}"], "'{yaml}' must end in .toml or .json"),
    ("spec-bad-json", ["demo", "--spec", "{badjson}"], "'{badjson}' is not valid JSON"),
    ("spec-bad-field", ["demo", "--spec", "{badfield}"], "people.clusters[2].share"),
    ("spec-empty-name", ["demo", "--spec", ""], "--spec must name a file"),
    ("demo-out-file", ["demo", "--out", "{file}"], "--out '{file}' is an existing file"),
    ("demo-out-under-file", ["demo", "--out", "{file}/sub"], "--out '{file}/sub'"),
    ("demo-out-empty", ["demo", "--out", ""], "--out must name a directory"),
    ("algorithms-unknown", ["demo", "--algorithms", "nope"], "--algorithms: unknown algorithm"),
    ("algorithms-empty-name", ["demo", "--algorithms", "kmeans,,dcsbm"], "--algorithms"),
    ("demo-huge", ["demo", "--planted", "--n-people", HUGE], "--n-people"),
    ("demo-huge-spec", ["demo", "--spec", "{spec}", "--n-people", HUGE], "--n-people"),
    ("generate-no-out", ["generate", "--planted"], "--out"),
    (
        "generate-out-dir",
        ["generate", "--planted", "--out", "{dir}"],
        "--out '{dir}' is a directory",
    ),
    (
        "generate-out-under-file",
        ["generate", "--planted", "--out", "{file}/x.fbp"],
        "'{file}' is a file, not a directory",
    ),
    ("generate-out-empty", ["generate", "--planted", "--out", ""], "--out must name a file"),
    (
        "generate-huge-people",
        ["generate", "--planted", "--n-people", HUGE, "--out", "{new}"],
        "--n-people",
    ),
    (
        "generate-huge-items",
        ["generate", "--planted", "--n-items", HUGE, "--out", "{new}"],
        "--n-items",
    ),
    ("generate-spec-dir", ["generate", "--spec", "{dir}", "--out", "{new}"], "--spec '{dir}'"),
    ("generate-mixing", ["generate", "--out", "{new}", "--mixing", "0.5"], "--mixing"),
    ("spec-format", ["spec", "--format", "yaml"], "--format"),
    ("spec-mixing", ["spec", "--mixing", "0.5"], "--mixing"),
    ("spec-n-people", ["spec", "--n-people", "0"], "--n-people"),
    ("info-missing", ["info", "{missing}"], "{missing}"),
    ("info-directory", ["info", "{dir}"], "{dir}"),
    ("info-garbage", ["info", "{file}"], "{file}"),
    ("bench-no-sub", ["bench"], "bench"),
    ("bench-mixings-text", ["bench", "recovery", "--mixings", "a,b"], "--mixings"),
    ("bench-mixings-range", ["bench", "recovery", "--mixings", "0.5,1.5"], "--mixings"),
    ("bench-seeds-text", ["bench", "recovery", "--seeds", "x"], "--seeds"),
    ("bench-seeds-negative", ["bench", "recovery", "--seeds", "1,-1"], "--seeds"),
    ("bench-out-dir", ["bench", "recovery", "--out", "{dir}"], "--out '{dir}' is a directory"),
    ("bench-n-people", ["bench", "recovery", "--n-people", "0"], "--n-people"),
    ("bench-k-people", ["bench", "recovery", "--k-people", "0"], "--k-people"),
    ("bench-ratio", ["bench", "recovery", "--ratio", "0"], "--ratio"),
    ("bench-algorithms", ["bench", "recovery", "--algorithms", "nope"], "--algorithms"),
    ("bench-huge", ["bench", "recovery", "--n-people", HUGE], "--n-people"),
]


@pytest.fixture
def places(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "f.txt").write_text("not a dataset")
    (tmp_path / "s.json").write_text(default_spec().to_json())
    (tmp_path / "s.yaml").write_text("people: {}")
    (tmp_path / "bad.json").write_text("{not json")
    bad = default_spec().to_dict()
    bad["people"]["clusters"][2]["share"] = -0.1
    (tmp_path / "field.json").write_text(json.dumps(bad))
    return {
        "dir": str(tmp_path / "d"),
        "file": str(tmp_path / "f.txt"),
        "missing": str(tmp_path / "missing.toml"),
        "spec": str(tmp_path / "s.json"),
        "yaml": str(tmp_path / "s.yaml"),
        "badjson": str(tmp_path / "bad.json"),
        "badfield": str(tmp_path / "field.json"),
        "new": str(tmp_path / "new.fbp"),
    }


def _fill(items, places):
    return [s.format(**places) for s in items]


def test_catalogue_size():
    assert len(CASES) >= 40


@pytest.mark.parametrize("argv, names", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_command_line(argv, names, places, capsys, tmp_path):
    rc = main(_fill(argv, places))
    out, err = capsys.readouterr()
    assert rc == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastbip: error: ")
    assert names.format(**places) in lines[0]
    assert "Traceback" not in err
    assert out == ""  # nothing was generated or run before the error
    assert not (tmp_path / "new.fbp").exists()


def test_huge_size_gives_the_figures(capsys):
    assert main(["generate", "--planted", "--n-people", HUGE, "--out", "x.fbp"]) == 2
    err = capsys.readouterr().err
    assert "GiB of memory to generate; this machine has" in err
    from fastbip._cli_args import _physical_memory

    have = _physical_memory() / 2**30
    assert f"{have:,.1f} GiB" in err


def test_a_bug_still_shows_a_traceback(monkeypatch):
    def broken(args):
        return np.zeros(-1)  # numpy's own ValueError: not a user's mistake

    monkeypatch.setattr(cli, "_cmd_algorithms", broken)
    with pytest.raises(ValueError, match="negative dimensions"):
        main(["algorithms"])

    def key_error(args):
        return {}["x"]

    monkeypatch.setattr(cli, "_cmd_algorithms", key_error)
    with pytest.raises(KeyError):
        main(["algorithms"])


@pytest.mark.parametrize(
    "argv, names",
    [
        (["demo", "--n-people", "0"], "--n-people"),
        (["generate", "--planted", "--out", "{dir}"], "--out '{dir}' is a directory"),
        (["demo", "--spec", "{dir}"], "--spec '{dir}' is a directory"),
    ],
)
def test_end_to_end_in_a_subprocess(argv, names, places):
    r = subprocess.run(
        [sys.executable, "-m", "fastbip.cli", *_fill(argv, places)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 2
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("fastbip: error: "), r.stderr
    assert names.format(**places) in lines[0]
    assert r.stdout == ""

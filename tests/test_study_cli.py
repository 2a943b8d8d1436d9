import json
import subprocess
import sys

import pytest

import fastbip
from fastbip import algorithms
from fastbip.cli import main
from fastbip.generate import generate
from fastbip.io import load
from fastbip.spec import Spec, default_spec, planted_spec
from fastbip.study import run_study


@pytest.fixture(scope="module")
def easy():
    return generate(
        planted_spec(600, 300, 3, 3, mean_purchases=30, ratio=12.0, seed=4, features=True)
    )


def test_public_names_resolve():
    for name in fastbip.__all__:
        assert getattr(fastbip, name) is not None, name
    with pytest.raises(AttributeError, match="has no attribute 'nope'"):
        fastbip.nope  # noqa: B018


def test_study_scores_every_algorithm(easy):
    names = ["kmeans", "dcsbm", "spectral-cocluster", "joint-svd-kmeans"]
    res = run_study(easy, algorithms=names)
    algos = {r["algorithm"] for r in res.rows}
    assert algos == {"oracle", "oracle-features", "oracle-joint", *names} and not res.failures
    for r in res.rows:
        assert -1 <= r["ari"] <= 1 and 0 <= r["nmi"] <= 1 + 1e-12
        assert 0 <= r["relation"] <= 1 and r["seconds"] >= 0
    by = {(r["algorithm"], r["side"]): r for r in res.rows}
    assert by[("oracle", "people")]["ari"] > 0.9
    # the block-model fit gets close to the oracle on an easy case
    assert by[("dcsbm", "people")]["ari"] >= 0.9 * by[("oracle", "people")]["ari"]
    assert res.snr > 1
    d = json.loads(res.to_json())
    assert len(d["rows"]) == len(res.rows)
    assert "oracle" in res.table() and "signal-to-noise" in res.table()


def _no_truth(ds):
    return fastbip.Dataset(ds.people, ds.items, ds.purchases)


@pytest.mark.parametrize(
    "call, exc, match",
    [
        (
            lambda ds: run_study(ds, algorithms=["nope"]),
            ValueError,
            r"unknown algorithm 'nope'; known algorithms:",
        ),
        (lambda ds: run_study(_no_truth(ds)), ValueError, "needs a dataset with a planted truth"),
        (lambda ds: run_study(ds, algorithms="kmeans"), TypeError, "algorithms must be a list"),
    ],
)
def test_study_errors(easy, call, exc, match):
    with pytest.raises(exc, match=match):
        call(easy)


def test_cli_demo_writes_results(tmp_path, capsys):
    rc = main(
        [
            "demo",
            "--n-people",
            "300",
            "--n-items",
            "120",
            "--algorithms",
            "kmeans,dcsbm",
            "--out",
            str(tmp_path / "out"),
        ]
    )
    out = capsys.readouterr().out
    assert rc == 0
    assert "oracle" in out and "dcsbm" in out and "kmeans" in out
    res = json.loads((tmp_path / "out" / "results.json").read_text())
    oracles = {"oracle", "oracle-features", "oracle-joint"}  # the demo's data has features
    assert {r["algorithm"] for r in res["rows"]} == oracles | {"kmeans", "dcsbm"}
    ds = load(tmp_path / "out" / "dataset.fbp")
    assert ds.purchases.shape == (300, 120)
    spec = Spec.from_dict(json.loads((tmp_path / "out" / "spec.json").read_text()))
    assert spec == ds.spec


def test_cli_spec_generate_info(tmp_path, capsys):
    assert main(["spec", "--format", "json"]) == 0
    assert Spec.from_dict(json.loads(capsys.readouterr().out)) == default_spec()
    assert main(["spec"]) == 0
    toml_text = capsys.readouterr().out
    (tmp_path / "s.toml").write_text(toml_text)
    assert (
        main(
            [
                "generate",
                "--spec",
                str(tmp_path / "s.toml"),
                "--n-people",
                "200",
                "--out",
                str(tmp_path / "d.fbp"),
            ]
        )
        == 0
    )
    assert main(["info", str(tmp_path / "d.fbp")]) == 0
    assert "200 people" in capsys.readouterr().out
    assert main(["algorithms"]) == 0
    listed = capsys.readouterr().out
    assert all(n in listed for n in algorithms.names())


def test_cli_errors_are_messages_not_tracebacks(tmp_path, capsys):
    assert main(["demo", "--spec", str(tmp_path / "missing.toml")]) == 2
    assert "does not exist" in capsys.readouterr().err
    bad = default_spec().to_dict()
    bad["people"]["clusters"][2]["share"] = -0.1
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    assert main(["demo", "--spec", str(tmp_path / "bad.json")]) == 2
    assert "people.clusters[2].share must be > 0; got -0.1" in capsys.readouterr().err


def test_console_script_runs():
    out = subprocess.run(
        [sys.executable, "-m", "fastbip.cli", "--version"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == f"fastbip {fastbip.__version__}"


def test_cli_bench_recovery(tmp_path, capsys):
    out = tmp_path / "rows.json"
    assert (
        main(
            [
                "bench",
                "recovery",
                "--n-people",
                "600",
                "--n-items",
                "200",
                "--k-people",
                "2",
                "--k-items",
                "2",
                "--mixings",
                "0,1",
                "--seeds",
                "0",
                "--algorithms",
                "svd-kmeans",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    text = capsys.readouterr().out
    assert "svd-kmeans" in text and "oracle" in text.lower()
    rows = json.loads(out.read_text())["rows"]
    by_mix = {(r["mixing"], r["side"]): r for r in rows if r["algorithm"] == "svd-kmeans"}
    # strong structure is found; at mixing 1 (no structure) nothing is
    assert by_mix[(0.0, "people")]["ari"] > 0.5
    assert abs(by_mix[(1.0, "people")]["ari"]) < 0.1
    assert main(["bench", "recovery", "--mixings", "low"]) == 2
    assert "--mixings takes numbers" in capsys.readouterr().err

"""A pytest plugin for testing co-clusterers against planted data.

Installed with fastbip as the ``fastbip`` entry point of the ``pytest11`` group, so pytest
loads it in any project where fastbip is installed (``-p no:fastbip`` turns it off; without
the entry point, ``-p fastbip.testing.plugin`` turns it on). Importing it costs nothing:
fastbip is imported by the fixtures when a test uses them.

Fixtures
--------
fastbip_planted
    :func:`fastbip.testing.planted`, the factory of planted datasets (session-scoped; the
    datasets are cached per process and read-only).
fastbip_ladder
    Parametrised over the difficulty ladder :data:`LADDER` (the rungs of
    :data:`fastbip.study.ladder.PLUGIN`: 2000 x 500, K = 3 x 3, SNR 1.5, 3, 6, 12; ids
    ``"snr=1.5"`` ...): each value is a dict of :func:`~fastbip.testing.planted` keyword
    arguments, so ``fastbip_planted(**fastbip_ladder)`` is one dataset per rung. The ladder
    is read when a test asks for the fixture, so loading the plugin imports nothing.
fastbip_assert_recovers
    :func:`fastbip.testing.assert_recovers` with its defaults taken from the test's
    ``fastbip_recovery`` marker (keywords given in the call win).

Marker
------
``@pytest.mark.fastbip_recovery(at_least=0.9, of="ceiling", side="both")`` marks a recovery
test (deselect them with ``-m "not fastbip_recovery"``) and sets the defaults of
``fastbip_assert_recovers``.

Example::

    @pytest.mark.fastbip_recovery(at_least=0.8)
    def test_my_cocluster(fastbip_planted, fastbip_ladder, fastbip_assert_recovers):
        if fastbip_ladder["snr"] >= 3:
            fastbip_assert_recovers(MyCocluster(), fastbip_planted(**fastbip_ladder))
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

_MARKER = "fastbip_recovery"
_RECOVERY_KEYS = ("at_least", "of", "side")


def __getattr__(name: str) -> Any:
    # LADDER, the rungs of fastbip.study.ladder.PLUGIN (keyword arguments of
    # fastbip.testing.planted), built on first use so that loading the plugin stays free
    if name == "LADDER":
        return _ladder()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _ladder() -> tuple[dict[str, Any], ...]:
    from fastbip.study.ladder import PLUGIN

    return tuple(PLUGIN.rungs())


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise ``fastbip_ladder`` over the rungs of :data:`LADDER`."""
    if "fastbip_ladder" in metafunc.fixturenames:
        rungs = _ladder()
        ids = [f"snr={p['snr']:g}" for p in rungs]
        metafunc.parametrize("fastbip_ladder", rungs, ids=ids, indirect=True)


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``fastbip_recovery`` marker."""
    config.addinivalue_line(
        "markers",
        f"{_MARKER}(at_least=0.9, of='ceiling', side='both'): a test of how well an "
        "algorithm recovers planted clusters; its keywords are the defaults of the "
        "fastbip_assert_recovers fixture",
    )


@pytest.fixture(scope="session")
def fastbip_planted() -> Callable[..., Any]:
    """The planted-dataset factory :func:`fastbip.testing.planted` (cached, read-only)."""
    from fastbip.testing import planted

    return planted


@pytest.fixture
def fastbip_ladder(request: pytest.FixtureRequest) -> dict[str, Any]:
    """One rung of :data:`LADDER`: the keyword arguments of ``fastbip_planted``."""
    return dict(request.param)


@pytest.fixture
def fastbip_assert_recovers(request: pytest.FixtureRequest) -> Callable[..., dict]:
    """:func:`fastbip.testing.assert_recovers` with defaults from the
    ``fastbip_recovery`` marker."""
    from fastbip.testing import assert_recovers

    defaults: dict[str, Any] = {}
    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        if marker.args:
            raise pytest.UsageError(
                f"{_MARKER} takes keywords only ({', '.join(_RECOVERY_KEYS)}); "
                f"got positional {marker.args!r}"
            )
        unknown = sorted(set(marker.kwargs) - set(_RECOVERY_KEYS))
        if unknown:
            raise pytest.UsageError(
                f"{_MARKER} takes {', '.join(_RECOVERY_KEYS)}; got {', '.join(unknown)}"
            )
        defaults.update(marker.kwargs)

    def check(estimator: Any, dataset: Any, **kwargs: Any) -> dict:
        __tracebackhide__ = True
        return assert_recovers(estimator, dataset, **{**defaults, **kwargs})

    return check

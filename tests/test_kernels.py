"""Conventions of the numba kernels (fastbip/_kernels), checked on every dispatcher.

The kernel modules are found by walking the package, so a new module is checked without
being listed here. A kernel is cached (``cache=True``) unless its module names it in a
module-level tuple ``UNCACHED_PARALLEL`` (a ``parallel=True`` kernel whose cache was not
shown to survive a change of thread count); serial kernels release the GIL (``nogil=True``);
every dispatcher's docstring names each of its arguments and the dtypes of its arrays. Helpers
compiled with ``inline="always"`` are inlined into their (cached) callers and have no
compiled entry of their own, so they are exempt from the cache rule only.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest
from numba.core.caching import NullCache
from numba.core.dispatcher import Dispatcher

import fastbip._kernels as kernels_package

DTYPE_WORD = re.compile(r"\b(u?int(8|16|32|64)?|float(32|64)?|bool|intp|complex(64|128)?)\b")


def _kernel_modules():
    return [
        importlib.import_module(info.name)
        for info in pkgutil.walk_packages(kernels_package.__path__, kernels_package.__name__ + ".")
    ]


def _dispatchers():
    out = []
    for mod in _kernel_modules():
        for name, obj in sorted(vars(mod).items()):
            if isinstance(obj, Dispatcher) and obj.py_func.__module__ == mod.__name__:
                out.append(pytest.param(mod, name, obj, id=f"{mod.__name__.split('.')[-1]}.{name}"))
    return out


DISPATCHERS = _dispatchers()
MODULES = _kernel_modules()

# Kernels whose docstrings did not yet name every argument (or a dtype) when this test was
# written; they are being rewritten with the kernel modules. Strict: a kernel that passes
# fails here until its entry is removed, and an entry that names no kernel fails too.
DOCSTRING_PENDING: set[str] = set()


def _inline(d):
    return d.targetoptions.get("inline", "never") == "always"


def test_the_walk_finds_the_kernels():
    assert len(MODULES) >= 1
    assert len(DISPATCHERS) >= 1


@pytest.mark.parametrize("mod, name, d", DISPATCHERS)
def test_cached_or_declared_uncached(mod, name, d):
    uncached = tuple(getattr(mod, "UNCACHED_PARALLEL", ()))
    if name in uncached:
        assert d.targetoptions.get("parallel"), f"{name} is in UNCACHED_PARALLEL but not parallel"
        assert isinstance(d._cache, NullCache), f"{name} is in UNCACHED_PARALLEL but cached"
    elif not _inline(d):
        assert not isinstance(d._cache, NullCache), (
            f"{mod.__name__}.{name} is not cache=True and not listed in UNCACHED_PARALLEL"
        )


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__.split(".")[-1])
def test_uncached_parallel_names_real_kernels(mod):
    uncached = getattr(mod, "UNCACHED_PARALLEL", ())
    assert isinstance(uncached, tuple), "UNCACHED_PARALLEL must be a tuple of kernel names"
    for name in uncached:
        assert isinstance(getattr(mod, name, None), Dispatcher), name


@pytest.mark.parametrize("mod, name, d", DISPATCHERS)
def test_serial_kernels_release_the_gil(mod, name, d):
    if not d.targetoptions.get("parallel") and not _inline(d):
        assert d.targetoptions.get("nogil"), f"{mod.__name__}.{name} is serial without nogil=True"


def _docstring_cases():
    out = []
    for p in DISPATCHERS:
        if p.id in DOCSTRING_PENDING:
            mark = pytest.mark.xfail(strict=True, reason="docstring pending (kernel reshape)")
            p = pytest.param(*p.values, id=p.id, marks=mark)
        out.append(p)
    return out


def test_docstring_pending_names_real_kernels():
    assert DOCSTRING_PENDING <= {p.id for p in DISPATCHERS}


@pytest.mark.parametrize("mod, name, d", _docstring_cases())
def test_docstring_names_every_argument(mod, name, d):
    doc = inspect.getdoc(d.py_func) or ""
    assert doc.strip(), f"{mod.__name__}.{name} has no docstring"
    missing = [
        p
        for p in inspect.signature(d.py_func).parameters
        if not re.search(rf"(?<![\w.]){re.escape(p)}(?!\w)", doc)
    ]
    assert missing == [], f"{mod.__name__}.{name}: docstring does not name {missing}"
    if not _inline(d):
        assert DTYPE_WORD.search(doc), f"{mod.__name__}.{name}: docstring gives no dtype"


@pytest.mark.parametrize("mod", MODULES, ids=lambda m: m.__name__.split(".")[-1])
def test_kernel_modules_import_nothing_of_fastbip(mod):
    tree = ast.parse(Path(mod.__file__).read_text())
    bad = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            # a sibling kernel module (``from .random import _next``) is fine
            if node.level > 1 or (node.module or "").split(".")[0] == "fastbip":
                bad.append(ast.unparse(node))
        elif isinstance(node, ast.Import):
            bad += [a.name for a in node.names if a.name.split(".")[0] == "fastbip"]
    assert bad == [], f"{mod.__name__} imports {bad}"

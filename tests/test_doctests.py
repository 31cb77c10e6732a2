"""Every docstring example in both packages runs (geopandas-style examples that run)."""

from __future__ import annotations

import doctest
import importlib
import pkgutil

import pytest

import forecasting
import layout

SKIP = {"layout.cli", "layout.synth.__main__"}


def _modules() -> list[str]:
    names = []
    for pkg in (forecasting, layout):
        names.append(pkg.__name__)
        for info in pkgutil.walk_packages(pkg.__path__, prefix=f"{pkg.__name__}."):
            if info.name not in SKIP:
                names.append(info.name)
    return sorted(names)


MODULES = _modules()


def test_many_modules_have_examples() -> None:
    finder = doctest.DocTestFinder()
    with_examples = [m for m in MODULES
                     if any(t.examples for t in finder.find(importlib.import_module(m)))]
    assert len(with_examples) >= 8, with_examples


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples_run(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name),
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0

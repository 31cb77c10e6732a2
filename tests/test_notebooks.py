"""The scenario notebooks execute on the embedded region (papermill), stored without outputs."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))


def test_four_notebooks_exist() -> None:
    names = {p.stem for p in NOTEBOOKS}
    assert {"01_forecast", "02_layout", "03_vocational", "04_compare_scenarios",
            "05_own_data"} <= names


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_is_stored_clean_with_parameters_cell(path: Path) -> None:
    nb = nbformat.read(path, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    tagged = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(tagged) == 1
    for name in ("scenario", "county", "target_year"):
        assert f"{name} =" in tagged[0].source
    # only the public API: no private (underscore) imports
    assert "import _" not in "".join(c.source for c in code)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_executes(path: Path, tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), cwd=str(path.parent), kernel_name="python3", progress_bar=False,
        parameters={"county": "510811", "target_year": 2030, "draws": 20,
                    "out_dir": str(tmp_path / "outputs")},
    )
    done = nbformat.read(out, as_version=4)
    errors = [o for c in done.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors

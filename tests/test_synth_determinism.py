from pathlib import Path

import pytest

from layout.synth.generate import EMBEDDED, SYNTHETIC_LAYERS, generate

FILES = ["townships.geojson", *[f"{n}.csv" for n in SYNTHETIC_LAYERS[1:]], "region.yaml"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    a = tmp_path_factory.mktemp("seed_a")
    b = tmp_path_factory.mktemp("seed_b")
    c = tmp_path_factory.mktemp("seed_c")
    generate(a, seed=20241)
    generate(b, seed=20241)
    generate(c, seed=7)
    return a, b, c


def test_same_seed_gives_identical_bytes(runs):
    a, b, _ = runs
    for name in FILES:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_different_seed_gives_different_files(runs):
    a, _, c = runs
    differing = [n for n in FILES if n != "region.yaml"
                 and (a / n).read_bytes() != (c / n).read_bytes()]
    assert set(differing) >= {"townships.geojson", "villages.csv", "schools.csv",
                              "enrollment.csv", "children.csv"}


def test_committed_embedded_data_is_reproducible(runs):
    a, _, _ = runs
    for name in FILES:
        assert (a / name).read_bytes() == (Path(EMBEDDED) / name).read_bytes(), name


def test_real_boundaries_copied_and_every_synthetic_file_labelled(runs):
    a, _, _ = runs
    assert (a / "counties.geojson").read_bytes() == (EMBEDDED / "counties.geojson").read_bytes()
    for name in FILES:
        head = (a / name).read_text(encoding="utf-8").splitlines()[0]
        if name.endswith(".csv"):
            assert head.startswith("# SYNTHETIC"), name
        elif name.endswith(".geojson"):
            assert '"synthetic": true' in head
            assert '"note"' in head


def test_no_temp_files_left(runs):
    a, _, _ = runs
    assert not [p for p in a.iterdir() if p.name.startswith(".")]

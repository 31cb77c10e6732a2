import numpy as np
import pandas as pd
import pytest

from forecasting.metrics import malpe, mape, mdape, percentage_errors, size_class, summarise_errors

# Hand-computed: percentage errors +10, -10, +25 (the zero actual is skipped).
F = [110.0, 90.0, 150.0, 5.0]
A = [100.0, 100.0, 120.0, 0.0]


def test_known_answer():
    assert mape(F, A) == pytest.approx(15.0)  # (10 + 10 + 25) / 3
    assert mdape(F, A) == pytest.approx(10.0)  # median of 10, 10, 25
    assert malpe(F, A) == pytest.approx(25.0 / 3)  # (10 - 10 + 25) / 3


def test_percentage_errors_zero_actual_is_nan():
    pe = percentage_errors(F, A)
    assert np.isnan(pe[3])
    np.testing.assert_allclose(pe[:3], [10.0, -10.0, 25.0])


def test_summarise_groups_and_counts_zeros():
    df = pd.DataFrame({"g": ["a", "a", "a", "a"], "forecast": F, "actual": A})
    out = summarise_errors(df, ["g"])
    row = out.iloc[0]
    assert (row["n"], row["n_zero"]) == (3, 1)
    assert row["mape"] == pytest.approx(15.0)
    assert row["malpe"] == pytest.approx(25.0 / 3)


def test_size_class_edges():
    labels = size_class([0, 99, 100, 499, 500, 10000]).tolist()
    assert labels == ["<100", "<100", "100-500", "100-500", "500-2000", ">=10000"]


def test_shape_mismatch_raises():
    with pytest.raises(ValueError, match="shape"):
        mape([1.0, 2.0], [1.0])

"""The missing-value tests: a scalar (`is_missing`) and a column of identifying text (`has_text`, `text_or_none`)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from sfjira.values.missing import has_text, is_missing, text_or_none


@pytest.mark.parametrize("value", [None, np.nan, pd.NA, pd.NaT, float("nan")])
def test_missing_scalars(value: object) -> None:
    assert is_missing(value)


@pytest.mark.parametrize("value", ["", "x", 0, [], np.array([np.nan])])
def test_values_that_are_not_missing(value: object) -> None:
    assert not is_missing(value)


@pytest.mark.parametrize("dtype", [object, "string", "str"])
def test_text_or_none_gives_none_for_missing_and_empty_and_keeps_the_index(dtype: object) -> None:
    column = pd.Series(["SUP-1", None, "", "006A"], index=[7, 3, 9, 1], dtype=dtype)
    out = text_or_none(column)
    assert out.dtype == object and list(out.index) == [7, 3, 9, 1]
    assert out.tolist() == ["SUP-1", None, None, "006A"]
    assert has_text(column).tolist() == [True, False, False, True]


def test_non_text_values_become_text() -> None:
    assert text_or_none(pd.Series([12.0, np.nan])).tolist() == ["12.0", None]


def test_an_empty_column() -> None:
    assert text_or_none(pd.Series([], dtype=object)).tolist() == [] and has_text(pd.Series([], dtype=object)).size == 0

"""A frame's rows, one named tuple each, for the few loops that must go row by row (API calls per record).

The fields are typed `Any` on purpose: a row's columns are the ones our plans and schemas give the frame at
runtime, which pandas-stubs can only describe as "any scalar". The code reading a field knows its type
(an id is a str, `fields` a JSON text), as it knows a JSON payload's.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pandas as pd


def each_row(frame: pd.DataFrame, *, index: bool = True) -> Iterator[Any]:
    """`frame.itertuples(index=index)`: each row a named tuple whose fields are the columns."""
    return frame.itertuples(index=index)

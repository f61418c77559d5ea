"""Value maps as Arrow hash lookups (index_in + take): no per-row dict access."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sfjira.values.arrowcol import STRING, bool_mask


def lookup(values: pa.Array, table: Mapping[str, str]) -> tuple[pa.Array, np.ndarray]:
    """Mapped values (null where not found) and the mask of values found in `table`."""
    keys = pa.array(list(table.keys()), STRING)
    index = pc.index_in(values, value_set=keys)
    mapped = pc.take(pa.array(list(table.values()), STRING), index)
    return mapped, bool_mask(pc.is_valid(index))


def unmapped_mask(values: pa.Array, found: np.ndarray) -> np.ndarray:
    """Present values the table does not know ('' and null are missing, not unmapped)."""
    return ~found & bool_mask(pc.and_(pc.is_valid(values), pc.not_equal(values, "")))

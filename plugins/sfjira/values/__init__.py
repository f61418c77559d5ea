"""Canonical values, column by column: the Arrow/pandas primitives below the mapping and the transform.

Text normalisation (`text`), numbers and dates (`numbers`, `datetimes`), multi-value fields
(`multivalue`), type coercion (`coerce`, incl. `coerce_scalar` that mapping validation uses) and the
documented per-field and per-record hashes (`hashing`). Nothing here knows a mapping, so the mapping
package (validating defaults) and the PII package (keyed hashes) can use it without an import cycle.
"""

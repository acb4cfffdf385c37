"""Mined review comments as a Parquet file (pyarrow, the optional extra ``reviewbot[data]``).

The columns are fixed, so that files from different runs concatenate: what
``MinedComment.as_dict`` gives, plus the thread, the reply's date and list, and the ids of the
rules whose findings hit the comment's place.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from reviewbot.errors import UsageError

INSTALL_HINT = "pip install 'reviewbot[data]'"

# (column, kind): kind is one of "str", "int", "strs"
COLUMNS: tuple[tuple[str, str], ...] = (
    ("thread", "str"), ("reply_message_id", "str"), ("patch_message_id", "str"),
    ("date", "str"), ("list", "str"), ("reviewer", "str"), ("patch", "int"),
    ("path", "str"), ("side", "str"), ("line_start", "int"), ("line_end", "int"),
    ("quoted", "str"), ("comment", "str"), ("kind", "str"), ("trailers", "strs"),
    ("reply_line", "int"), ("rules", "strs"),
)


def require_pyarrow() -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise UsageError(f"--format parquet needs pyarrow: {INSTALL_HINT}") from None


def write_parquet(rows: Sequence[dict[str, Any]], output: str) -> None:
    require_pyarrow()
    import pyarrow as pa
    import pyarrow.parquet as pq

    types = {"str": pa.string(), "int": pa.int64(), "strs": pa.list_(pa.string())}
    schema = pa.schema([(name, types[kind]) for name, kind in COLUMNS])
    columns = {name: [row.get(name) for row in rows] for name, _ in COLUMNS}
    table = pa.table(columns, schema=schema)
    try:
        pq.write_table(table, str(Path(output)))
    except OSError as exc:
        raise UsageError(f"{output}: cannot write: {exc}") from None

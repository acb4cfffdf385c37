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


def _schema() -> Any:
    import pyarrow as pa

    types = {"str": pa.string(), "int": pa.int64(), "strs": pa.list_(pa.string())}
    return pa.schema([(name, types[kind]) for name, kind in COLUMNS])


def _table(rows: Sequence[dict[str, Any]], schema: Any) -> Any:
    import pyarrow as pa

    return pa.table({name: [row.get(name) for row in rows] for name, _ in COLUMNS},
                    schema=schema)


def write_parquet(rows: Sequence[dict[str, Any]], output: str) -> None:
    with ParquetRows(output) as sink:
        sink.write(rows)


class ParquetRows:
    """A Parquet file written a batch of rows at a time (so memory does not grow with the
    archive); rows are buffered into row groups of ``group`` rows."""

    def __init__(self, output: str, group: int = 8192) -> None:
        require_pyarrow()
        import pyarrow.parquet as pq

        self.output = output
        self.group = group
        self.buffer: list[dict[str, Any]] = []
        self.schema = _schema()
        try:
            self.writer = pq.ParquetWriter(str(Path(output)), self.schema)
        except OSError as exc:
            raise UsageError(f"{output}: cannot write: {exc}") from None

    def write(self, rows: Sequence[dict[str, Any]]) -> None:
        self.buffer.extend(rows)
        if len(self.buffer) >= self.group:
            self._flush()

    def _flush(self) -> None:
        if self.buffer:
            self.writer.write_table(_table(self.buffer, self.schema))
            self.buffer = []

    def __enter__(self) -> ParquetRows:
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self._flush()
        finally:
            self.writer.close()

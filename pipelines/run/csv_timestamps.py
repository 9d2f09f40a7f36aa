"""Arrow timestamps as text for Postgres, whose Arrow rows dlt writes as CSV for `COPY`.

Arrow formats a time-zone-aware timestamp ~25x slower than a naive one (~1.2 s per million values
here): on the maximal org's first sync into Postgres that was ~3.5 s of dlt's normalize step, the
half of it (bench P6). The same UTC instant written here as `2024-01-07 15:21:45.924013+00` costs
a cast and a concatenation; Postgres reads it back into the same `timestamptz`. Only columns the
resource hints as timestamps are written so, so dlt's schema keeps them typed."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import dlt
import pyarrow as pa
import pyarrow.compute as pc
from dlt.extract.source import DltSource

# destinations whose loader dlt gives Arrow rows to as CSV
CSV_DESTINATIONS = frozenset({"postgres"})
UTC_OFFSET = "+00"


def timestamps_as_text(columns: frozenset[str]) -> Callable[[Any], Any]:
    """A map step for a resource: Arrow tables get `columns` (when time-zone aware) as UTC text;
    anything else passes unchanged."""

    def convert(item: Any) -> Any:
        if not isinstance(item, pa.Table):
            return item
        for i, field in enumerate(item.schema):
            kind = field.type
            if field.name in columns and pa.types.is_timestamp(kind) and kind.tz is not None:
                # Arrow stores UTC: dropping the zone keeps the instant's UTC wall time
                wall = item.column(i).cast(pa.timestamp(kind.unit)).cast(pa.string())
                item = item.set_column(i, field.name, pc.binary_join_element_wise(wall, UTC_OFFSET, ""))
        return item

    return convert


def write_timestamps_as_text(source: DltSource, pipeline: dlt.Pipeline) -> None:
    """Adds the map step to every resource of `source` with timestamp columns, when `pipeline`'s
    destination loads CSV."""
    if pipeline.destination.destination_name not in CSV_DESTINATIONS:
        return
    for resource in source.selected_resources.values():
        hints = resource.columns if isinstance(resource.columns, dict) else {}
        stamped = frozenset(n for n, c in hints.items() if c.get("data_type") == "timestamp")
        if stamped:
            resource.add_map(timestamps_as_text(stamped))

"""Build the GNE demo warehouse: a seeded DuckDB file written to a temporary name and renamed into place."""

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from gnelib.warehouse import calendar as cal
from gnelib.warehouse import creators as crt
from gnelib.warehouse import experience as xp
from gnelib.warehouse import experiments as exp
from gnelib.warehouse import incidents as inc
from gnelib.warehouse import policies
from gnelib.warehouse.enforcement import generate_enforcement
from gnelib.warehouse.errors import WarehouseError
from gnelib.warehouse.frames import append
from gnelib.warehouse.moderation import generate_moderation
from gnelib.warehouse.orders import OrderGenerator
from gnelib.warehouse.scales import resolve_scale
from gnelib.warehouse.schema import TABLES, create_statements
from gnelib.warehouse.sellers import generate_sellers, listing_columns, seller_columns

GENERATOR_VERSION = "1.0"
BUILD_MEMORY_LIMIT = "1500MB"

Progress = Callable[[str, int, int], None]
"""Called as progress(step, done, total) while building."""


@dataclass(frozen=True)
class Summary:
    """What a build produced."""

    path: Path
    scale: str
    seed: int
    as_of: str
    row_counts: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _meta_rows(scale: str, seed: int) -> dict[str, object]:
    meta = {
        "seed": str(seed),
        "scale": scale,
        "as_of": cal.AS_OF.isoformat(sep=" "),
        "first_week": cal.FIRST_WEEK,
        "last_complete_week": cal.LAST_COMPLETE_WEEK,
        "generator_version": GENERATOR_VERSION,
    }
    return {"key": list(meta), "value": list(meta.values())}


def _incident_columns(fraud_ring_size: float) -> dict[str, object]:
    rows = inc.manifest(fraud_ring_size)
    columns: dict[str, object] = {name: [getattr(r, name) for r in rows] for name, _ in TABLES["incidents"]}
    columns["incident_id"] = np.array(columns["incident_id"], np.int64)
    columns["expected_size"] = np.array(columns["expected_size"], float)
    return columns


def _append_creators_and_experience(con, creators, sellers, enforcement, seed: int) -> None:
    moderation = crt.generate_creator_moderation(creators, seed)
    append(con, "creators", crt.creator_columns(creators))
    append(con, "creator_content_moderation", moderation)
    append(con, "creator_enforcement", crt.generate_creator_enforcement(moderation, creators, seed))
    append(con, "seller_appeals", xp.generate_seller_appeals(enforcement, seed))
    append(con, "seller_support_contacts", xp.generate_seller_contacts(sellers, enforcement, seed))


def _populate(con: duckdb.DuckDBPyConnection, scale_name: str, seed: int, progress: Progress) -> None:
    scale = resolve_scale(scale_name)
    for statement in create_statements():
        con.execute(statement)
    total_steps = cal.N_WEEKS + 4
    progress("sellers and listings", 0, total_steps)
    sellers = generate_sellers(scale, seed)
    enforcement = generate_enforcement(sellers, seed)  # sets the bans that stop sellers from selling
    append(con, "sellers", seller_columns(sellers))
    append(con, "listings", listing_columns(sellers))
    append(con, "enforcement", enforcement)
    progress("listing moderation", 1, total_steps)
    append(con, "listing_moderation", generate_moderation(sellers, scale, seed))

    assignments = exp.assign(sellers, seed)
    nudge = exp.DISPATCH_NUDGE
    generator = OrderGenerator(
        sellers,
        scale,
        seed,
        dispatch_treated=exp.dispatch_treated(assignments),
        dispatch_window_us=(cal.to_us(nudge.start), cal.to_us(nudge.end) + cal.US_PER_DAY),
        dispatch_effect=nudge.true_effect,
    )
    creators = crt.generate_creators(scale, seed)  # creators and experience: their own random streams
    attribution, contacts = crt.CreatorAttribution(creators, seed), xp.ContactGenerator(seed)
    for week in range(cal.N_WEEKS):
        progress(f"orders {cal.week_label(week)}", 2 + week, total_steps)
        tables = generator.week(week)
        attribution.attribute(week, tables)
        tables["cs_contacts"] = contacts.week(week, tables)
        for table, columns in tables.items():
            append(con, table, columns)
    append(con, "after_sales", attribution.ring_requests(generator.next_request_id))
    _append_creators_and_experience(con, creators, sellers, enforcement, seed)

    progress("experiments and manifest", 2 + cal.N_WEEKS, total_steps)
    append(con, "experiment_designs", exp.design_columns())
    exp.fill_readouts(con, assignments)
    append(con, "incidents", _incident_columns(generator.tally.planted_multiplier))
    append(con, "policy_launches", policies.launch_columns())
    append(con, "warehouse_meta", _meta_rows(scale.name, seed))
    progress("writing", 3 + cal.N_WEEKS, total_steps)
    con.execute("CHECKPOINT")


def build_warehouse(
    path: str | os.PathLike, scale: str = "small", seed: int = 7, progress: Progress | None = None
) -> Summary:
    """Build the demo warehouse at `path` (replacing any file there only once the build has succeeded).

    Same scale and seed give identical tables. Scales: small (~300k orders, seconds), medium (~5M orders),
    large (~50M orders).
    """
    resolve_scale(scale)
    if not isinstance(seed, int) or seed < 0:
        raise WarehouseError(f"The seed must be a non-negative integer, got {seed!r}.")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(f".{target.name}.{os.getpid()}.building")
    temporary.unlink(missing_ok=True)
    started = time.perf_counter()
    try:
        con = duckdb.connect(str(temporary), config={"threads": 2, "memory_limit": BUILD_MEMORY_LIMIT})
        try:
            _populate(con, scale, seed, progress or (lambda step, done, total: None))
            counts = {table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in TABLES}
        finally:
            con.close()
        os.replace(temporary, target)
    finally:
        temporary.unlink(missing_ok=True)
        Path(f"{temporary}.wal").unlink(missing_ok=True)
    return Summary(target, scale, seed, cal.AS_OF.isoformat(sep=" "), counts, time.perf_counter() - started)

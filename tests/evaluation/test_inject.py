"""The incident injector on the small warehouse: every change it makes to the raw tables is checked against an
independent pandas recomputation of the metric from the raw rows (no catalog SQL, no metric layer), so an
incident moves exactly its cell, weeks and metric, by exactly the size and in the direction its manifest says."""

import hashlib
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest

from gnelib.evaluation import KINDS, Planner, draw_incidents, inject
from gnelib.evaluation.inject import MANIFEST_TABLE
from gnelib.evaluation.levers import RATE_METRICS
from gnelib.periods import weeks_between
from gnelib.warehouse import connect

SEED = 20261127
MAD_SCALE = 1.4826


# --- an independent pandas view of the raw tables -------------------------------------------------------------


def read_tables(path: Path) -> dict[str, pd.DataFrame]:
    with duckdb.connect(str(path), read_only=True) as con:
        return {name: con.execute(f"SELECT * FROM {name}").df()
                for name in ("orders", "after_sales", "reviews", "sellers", "warehouse_meta")}


def order_outcomes(tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One row per order: its cell columns, ISO week, and each injected metric's denominator / numerator
    membership, written from the metric descriptions in the catalog."""
    orders = tables["orders"].copy()
    requests = tables["after_sales"][["order_id", "reason"]]
    reviews = tables["reviews"][["order_id", "rating"]]
    tiers = tables["sellers"][["seller_id", "tier"]].rename(columns={"tier": "seller_tier"})
    frame = orders.merge(requests, on="order_id", how="left").merge(reviews, on="order_id", how="left")
    frame = frame.merge(tiers, on="seller_id", how="left")
    calendar = frame["ordered_at"].dt.isocalendar()
    frame["week"] = calendar["year"].astype(str) + "-W" + calendar["week"].astype(str).str.zfill(2)
    delivered = frame["delivered_at"].notna()
    dispatch_base = frame["shipped_at"].notna() | frame["cancelled_at"].isna()
    frame["den_delivered"] = delivered
    frame["den_dispatch"] = dispatch_base
    frame["not_as_described_rate"] = delivered & frame["reason"].isin(["not_as_described", "counterfeit"])
    frame["counterfeit_claim_rate"] = delivered & frame["reason"].eq("counterfeit")
    frame["negative_review_rate"] = delivered & frame["rating"].le(2)
    frame["late_dispatch_rate"] = dispatch_base & (
        frame["shipped_at"].isna() | (frame["shipped_at"] > frame["promised_ship_by"])
    )
    frame["late_delivery_rate"] = delivered & (frame["delivered_at"] > frame["promised_delivery_by"])
    return frame.set_index("order_id")


DENOMINATOR = {"late_dispatch_rate": "den_dispatch"}  # every other injected rate: delivered orders


def in_cell(frame: pd.DataFrame, row: pd.Series) -> pd.Series:
    """Orders of the manifest row's cell and weeks."""
    mask = frame["market"].eq(row["market"]) & frame["week"].isin(row["weeks"].split(","))
    if row["dimension"]:
        for dimension, value in zip(row["dimension"].split(" × "), row["value"].split(" × "), strict=True):
            mask &= frame[dimension].astype(str).eq(value)
    return mask


def weekly(frame: pd.DataFrame, mask: pd.Series, metric: str) -> pd.DataFrame:
    """Numerator and denominator of `metric` per week over the orders in `mask`."""
    rows = frame[mask]
    denominator = rows[DENOMINATOR.get(metric, "den_delivered")]
    return pd.DataFrame({"numerator": rows[metric].astype(int), "denominator": denominator.astype(int),
                         "week": rows["week"]}).groupby("week").sum()


def independent_unit(frame: pd.DataFrame, row: pd.Series) -> float:
    """The manifest's `se` recomputed from raw rows: max(1.4826·MAD of the detrended 12 weekly values before the
    incident, binomial / Poisson sampling error)."""
    first = pd.Timestamp.fromisocalendar(int(row["first_week"][:4]), int(row["first_week"][-2:]), 1)
    history = [(first - pd.Timedelta(weeks=back)).isocalendar() for back in range(12, 0, -1)]
    labels = [f"{year}-W{week:02d}" for year, week, _ in history]
    mask = frame["market"].eq(row["market"])
    if row["dimension"]:
        for dimension, value in zip(row["dimension"].split(" × "), row["value"].split(" × "), strict=True):
            mask &= frame[dimension].astype(str).eq(value)
    if row["metric"] == "orders":
        values = frame[mask].groupby("week").size().reindex(labels).astype(float)
        sampling = np.sqrt(values.mean())
    else:
        table = weekly(frame, mask, row["metric"]).reindex(labels)
        values = table["numerator"] / table["denominator"]
        rate = table["numerator"].sum() / table["denominator"].sum()
        current = weekly(frame, mask, row["metric"]).loc[row["first_week"], "denominator"]
        sampling = np.sqrt(rate * (1 - rate) / current)
    x = np.arange(12.0)
    residuals = values.to_numpy() - np.polyval(np.polyfit(x, values.to_numpy(), 1), x)
    spread = MAD_SCALE * np.median(np.abs(residuals - np.median(residuals)))
    return float(max(spread, sampling))


# --- fixtures ------------------------------------------------------------------------------------------------


def file_hash(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def planned(small_warehouse: Path):
    """Incidents of every kind and every lever (both directions) planned on the small warehouse."""
    conn = connect(small_warehouse)
    planner = Planner(conn, np.random.default_rng(SEED), min_denominator=20, min_events=1)
    wanted = [("new_seller_burst", 3.0, None), ("single_seller", 2.0, None), ("volume_sale", 4.0, None),
              ("pair_rate", 3.0, None), ("drift", 4.0, None), ("sustained", 3.0, None)]
    wanted += [("cell_rate", 4.0, metric) for metric in RATE_METRICS]
    wanted += [("improvement", 1.5, metric) for metric in RATE_METRICS]
    incidents = []
    for kind, size, metric in wanted:
        incident = planner.draw(kind, size, metric)
        assert incident is not None, f"no room for {kind} {metric} on the small warehouse"
        incidents.append(incident)
    yield planner, incidents
    conn.close()


@pytest.fixture(scope="module")
def injected(small_warehouse: Path, planned, tmp_path_factory: pytest.TempPathFactory):
    """(manifest, source tables, copy tables, copy path, source hash before, source hash after)."""
    _, incidents = planned
    before = file_hash(small_warehouse)
    copy = tmp_path_factory.mktemp("injected") / "copy.duckdb"
    table = inject(small_warehouse, copy, incidents)
    after = file_hash(small_warehouse)
    return table, read_tables(small_warehouse), read_tables(copy), copy, before, after


@pytest.fixture(scope="module")
def outcomes(injected):
    table, source, copy, *_ = injected
    return order_outcomes(source), order_outcomes(copy)


# --- tests ---------------------------------------------------------------------------------------------------


def test_source_is_never_written(injected):
    *_, before, after = injected
    assert before == after


def test_manifest_is_stored_in_the_copy(injected):
    table, _, _, copy, *_ = injected
    with duckdb.connect(str(copy), read_only=True) as con:
        stored = con.execute(f"SELECT * FROM {MANIFEST_TABLE} ORDER BY incident_id").df()
    assert stored["incident_id"].tolist() == table["incident_id"].tolist()
    assert set(table["kind"]) == set(KINDS)
    assert set(table.loc[table["kind"] != "volume_sale", "metric"]) == set(RATE_METRICS)
    assert set(table["direction"]) == {"up", "down"}
    assert (table.loc[table["direction"] == "down", "verdict"] == "good").all()
    assert (table.loc[(table["direction"] == "up") & (table["metric"] != "orders"), "verdict"] == "bad").all()


def test_unit_matches_an_independent_recomputation(injected, outcomes):
    table = injected[0]
    source, _ = outcomes
    for _, row in table.iterrows():
        if row["kind"] == "single_seller":  # the unit is the market total's
            row = row.copy()
            row["dimension"], row["value"] = "", ""
        assert row["se"] == pytest.approx(independent_unit(source, row), rel=1e-9), row["incident_id"]


def test_each_rate_incident_moves_exactly_its_cell_by_its_size(injected, outcomes):
    table = injected[0]
    source, copy = outcomes
    shared = source.index
    for _, row in table[table["metric"] != "orders"].iterrows():
        metric, sign = row["metric"], 1 if row["direction"] == "up" else -1
        unit = row.copy()
        if row["kind"] == "single_seller":
            unit["dimension"], unit["value"] = "", ""
        cell = in_cell(source, unit)
        before = weekly(source, cell, metric)
        after = weekly(copy.loc[shared], cell.reindex(shared), metric)
        pd.testing.assert_series_equal(before["denominator"], after["denominator"])
        moved = (after["numerator"] - before["numerator"]).reindex(row["weeks"].split(","))
        sizes = [float(size) for size in row["sizes_se"].split(",")]
        assert moved.sum() == sign * row["rows_changed"]
        for week, size in zip(row["weeks"].split(","), sizes, strict=True):
            change = (after.loc[week, "numerator"] - before.loc[week, "numerator"]) / before.loc[week, "denominator"]
            assert sign * change > 0
            assert sign * change / row["se"] == pytest.approx(size, abs=5e-4)
            assert int(round(size * row["se"] * before.loc[week, "denominator"])) == abs(moved[week])


def test_nothing_moves_outside_the_incidents(injected, outcomes):
    """Every order whose outcome changed for a metric lies in the cell and weeks of an incident on that metric
    (or one listing the metric among its side effects), and each incident changed exactly its rows."""
    table = injected[0]
    source, copy = outcomes
    copy = copy.loc[source.index]
    for metric in RATE_METRICS:
        denominator = DENOMINATOR.get(metric, "den_delivered")
        assert (source[denominator] == copy[denominator]).all(), metric
        changed = source[metric] != copy[metric]
        owners = table[(table["metric"] == metric)
                       | table["side_metrics"].str.split(",").apply(lambda side, m=metric: m in side)]
        covered = pd.Series(False, index=source.index)
        for _, row in owners.iterrows():
            unit = row.copy()
            if row["kind"] == "single_seller":
                unit["dimension"], unit["value"] = "", ""
            covered |= in_cell(source, unit)
        assert not (changed & ~covered).any(), metric
        direct = table[table["metric"] == metric]
        assert changed[covered].sum() >= direct["rows_changed"].sum()
    unrelated = ["ordered_at", "market", "seller_id", "category", "channel", "carrier", "gmv_usd",
                 "cancelled_at", "cancel_fault", "promised_ship_by", "promised_delivery_by", "tracking_valid"]
    pd.testing.assert_frame_equal(source[unrelated], copy[unrelated])


def test_only_the_named_seller_or_new_sellers_change(injected, outcomes):
    table = injected[0]
    source, copy = outcomes
    copy = copy.loc[source.index]
    for _, row in table[table["kind"].isin(["single_seller", "new_seller_burst"])].iterrows():
        changed = source[row["metric"]] != copy[row["metric"]]
        changed &= source["market"].eq(row["market"]) & source["week"].isin(row["weeks"].split(","))
        assert changed.sum() == row["rows_changed"]
        if row["kind"] == "single_seller":
            assert set(source.loc[changed, "seller_id"]) == {row["seller_id"]}
        else:
            assert set(source.loc[changed, "seller_tenure_band"]) == {"<30d"}
            assert source.loc[changed, "seller_id"].nunique() <= row["n_sellers"]


def test_drift_grows_each_week(injected):
    table = injected[0]
    drift = table[table["kind"] == "drift"].iloc[0]
    sizes = [float(size) for size in drift["sizes_se"].split(",")]
    assert 3 <= len(sizes) <= 5
    assert all(later > earlier for earlier, later in zip(sizes, sizes[1:], strict=False))
    assert sizes[-1] == pytest.approx(4.0, rel=0.15)


def test_volume_sale_duplicates_orders_of_its_cell_only(injected):
    table, source, copy, *_ = injected
    row = table[table["kind"] == "volume_sale"].iloc[0]
    new = copy["orders"][~copy["orders"]["order_id"].isin(source["orders"]["order_id"])]
    assert len(new) == row["rows_changed"]
    outcomes = order_outcomes(copy)
    assert in_cell(outcomes, row).loc[new["order_id"]].all()
    columns = [column for column in source["orders"].columns if column != "order_id"]
    originals = new[["order_id", *columns]].merge(source["orders"], on=columns, suffixes=("", "_original"))
    assert len(originals) == len(new) and originals["order_id"].is_unique  # each copy of exactly one order
    old_counts = order_outcomes(source).groupby(["market", "week"]).size()
    new_counts = outcomes.groupby(["market", "week"]).size()
    difference = (new_counts - old_counts).loc[lambda d: d != 0]
    assert difference.to_dict() == {(row["market"], row["first_week"]): row["rows_changed"]}
    for table in ("after_sales", "reviews"):
        expected = originals["order_id_original"].map(source[table]["order_id"].value_counts()).fillna(0).sum()
        assert copy[table]["order_id"].isin(new["order_id"]).sum() == expected, table


def test_changed_events_keep_their_order_in_time(injected):
    _, source, copy, *_ = injected
    as_of = pd.Timestamp(copy["warehouse_meta"].set_index("key").loc["as_of", "value"])
    orders = copy["orders"].set_index("order_id")
    assert (orders["shipped_at"].dropna() >= orders.loc[orders["shipped_at"].notna(), "ordered_at"]).all()
    shipped = orders.dropna(subset=["shipped_at", "delivered_at"])
    assert (shipped["delivered_at"] >= shipped["shipped_at"]).all()
    for table, column in (("after_sales", "requested_at"), ("reviews", "created_at")):
        events = copy[table].merge(orders[["delivered_at"]], left_on="order_id", right_index=True)
        assert (events[column] >= events["delivered_at"]).all(), table
        assert (events[column] <= as_of).all(), table
    assert (orders[["shipped_at", "delivered_at"]].max() <= as_of).all()


def test_random_incidents_never_share_a_market_and_family(small_warehouse: Path):
    with connect(small_warehouse) as conn:
        planner = Planner(conn, np.random.default_rng(SEED + 1), min_denominator=40)
        incidents, _ = draw_incidents(planner, list(KINDS) * 2)
        planted = {(market, week) for market, first, last in
                   conn.sql("SELECT market, start_week, end_week FROM incidents").itertuples(index=False)
                   for week in weeks_between(first, last)}
    assert len(incidents) >= len(KINDS)
    slots = [(incident.market, incident.family) for incident in incidents]
    assert len(slots) == len(set(slots))
    volume = {incident.market for incident in incidents if incident.family == "volume"}
    assert sum(market in volume for market, _ in slots) == len(volume)
    for incident in incidents:
        assert set(incident.weeks) <= set(planner.weeks)
        assert not any((incident.market, week) in planted for week in incident.weeks)
        low, high = 1.0, 9.0
        assert low * 0.8 <= incident.size_se <= high * 1.2


def test_same_seed_same_incidents(small_warehouse: Path):
    def draw(seed: int) -> pd.DataFrame:
        with connect(small_warehouse) as conn:
            planner = Planner(conn, np.random.default_rng(seed), min_denominator=40)
            incidents, _ = draw_incidents(planner, ["pair_rate", "single_seller", "volume_sale"])
        return pd.DataFrame([incident.to_row() for incident in incidents])

    first = draw(5)
    pd.testing.assert_frame_equal(first, draw(5))
    assert not first.equals(draw(6))

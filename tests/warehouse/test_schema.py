"""The built warehouse has exactly the tables and columns (names, order, types) of docs/warehouse.md."""

import re
from pathlib import Path

import duckdb

DOC = Path(__file__).resolve().parents[2] / "docs" / "warehouse.md"


def documented_tables() -> dict[str, list[tuple[str, str]]]:
    """Table name → [(column, type)] from each '### `table`' section's first markdown table."""
    tables: dict[str, list[tuple[str, str]]] = {}
    current = None
    for line in DOC.read_text().splitlines():
        heading = re.fullmatch(r"### `(\w+)`", line.strip())
        if heading:
            current = heading.group(1)
            tables[current] = []
        elif line.startswith("## "):
            current = None
        elif current and line.startswith("|"):
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            if cells[0] not in ("column", "") and not set(cells[0]) <= {"-", " "}:
                tables[current].append((cells[0], cells[1]))
    return tables


def test_doc_lists_every_expected_table():
    assert set(documented_tables()) == {
        "sellers",
        "listings",
        "listing_moderation",
        "orders",
        "after_sales",
        "reviews",
        "enforcement",
        "experiment_designs",
        "experiments",
        "incidents",
        "policy_launches",
        "creators",
        "creator_content_moderation",
        "creator_enforcement",
        "cs_contacts",
        "seller_appeals",
        "seller_support_contacts",
        "warehouse_meta",
    }


def test_built_tables_match_the_documented_schema(small_warehouse):
    with duckdb.connect(str(small_warehouse), read_only=True) as con:
        rows = con.execute(
            "SELECT table_name, column_name, data_type FROM information_schema.columns "
            "ORDER BY table_name, ordinal_position"
        ).fetchall()
    built: dict[str, list[tuple[str, str]]] = {}
    for table, column, kind in rows:
        built.setdefault(table, []).append((column, kind))
    assert built == documented_tables()

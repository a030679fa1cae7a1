"""The data version of a PostgreSQL source follows its content, not only its as-of time: a row inserted with an old
timestamp (the as-of time unchanged) gives a new version, so neither the skip check nor the aggregate store reuses
what was computed before it."""

import psycopg

from gnelib.reporting.facts import load_facts

LATE_ROW = -1  # action_id of the inserted copy of the oldest enforcement action


def test_an_old_row_inserted_changes_the_data_version_and_removing_it_restores_it(postgres_url):
    before = load_facts(warehouse=postgres_url)
    assert load_facts(warehouse=postgres_url).data_version == before.data_version  # stable while nothing changes
    with psycopg.connect(postgres_url, autocommit=True) as pg:
        pg.execute("CREATE TEMP TABLE late AS SELECT * FROM enforcement ORDER BY actioned_at LIMIT 1")
        pg.execute("UPDATE late SET action_id = %s", [LATE_ROW])
        oldest = pg.execute("SELECT MIN(actioned_at) FROM enforcement").fetchone()[0]
        pg.execute("INSERT INTO enforcement SELECT * FROM late")
        try:
            after = load_facts(warehouse=postgres_url)
        finally:
            pg.execute("DELETE FROM enforcement WHERE action_id = %s", [LATE_ROW])
    assert str(oldest) < before.as_of  # the new row is old: the as-of time does not move
    assert (after.as_of, after.first_week, after.last_complete_week) == (
        before.as_of, before.first_week, before.last_complete_week)
    assert after.data_version != before.data_version
    assert load_facts(warehouse=postgres_url).data_version == before.data_version

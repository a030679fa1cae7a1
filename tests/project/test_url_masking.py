"""`config.mask_url`: the one form in which a warehouse URL is printed, logged or written (its password hidden)."""

import pytest

from gnelib.config import mask_url


@pytest.mark.parametrize(("text", "shown"), [
    ("postgresql://gne:s3cret@db:5432/wh?sslmode=require", "postgresql://gne:***@db:5432/wh?sslmode=require"),
    ("postgresql://gne:pa:ss/w0rd@db/wh", "postgresql://gne:***@db/wh"),
    ("postgresql://gne@db/wh?sslmode=require&password=s3cret", "postgresql://gne@db/wh?sslmode=require&password=***"),
    ("on postgresql://a:x@h/d, then sc://b:y@h:15002", "on postgresql://a:***@h/d, then sc://b:***@h:15002"),
])
def test_passwords_are_masked(text, shown):
    assert mask_url(text) == shown


@pytest.mark.parametrize("text", ["postgresql://gne@db:5432/wh", "duckdb:///data/gne.duckdb",
                                  "spark://local[2]?parquet=/srv/gne", "sc://spark-connect:15002", "data/gne.duckdb"])
def test_urls_without_a_password_are_unchanged(text):
    assert mask_url(text) == text

"""Seller-written text carries hostile strings at about a 1% rate; the rest is plausible."""

import pytest

HOSTILE = ["<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "\"double\" and 'single' quotes"]


@pytest.mark.parametrize(("table", "column"), [("sellers", "display_name"), ("listings", "title")])
def test_hostile_strings_present_at_a_small_rate(tables, table, column):
    text = tables[table][column]
    for hostile in HOSTILE:
        assert (text == hostile).any(), hostile
    assert (text.str.len() == 5000).any()
    assert text.str.contains("[\u0e00-\u0e7f]", regex=True).any()  # Thai
    assert text.str.contains("[\u0600-\u06ff]", regex=True).any()  # Arabic (right-to-left)
    assert text.str.contains("[\u4e00-\u9fff]", regex=True).any()  # Chinese
    assert text.str.contains("ử|ẩ|ỹ", regex=True).any()  # Vietnamese
    assert text.str.contains("[\U0001f300-\U0001faff]", regex=True).any()  # emoji
    odd = ~text.str.fullmatch(r"[A-Za-z0-9 \-]+")
    assert 0.005 <= odd.mean() <= 0.02
    assert text.notna().all() and (text.str.len() > 0).all()

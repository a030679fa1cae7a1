"""Report tables for a 1366 px page: numbers right-aligned by column, long text clamped with its full text on hover,
good/bad cells and cards marked by an icon as well as colour."""

import re

import pandas as pd

from gnelib.viz.blocks import Card, cards
from gnelib.viz.tables import LONG_TEXT, html_table


def cells(page: str, tag: str = "td") -> list[tuple[str, str]]:
    """(class attribute, inner HTML) of every `tag` cell."""
    return re.findall(rf'<{tag}(?: class="([^"]*)")?>(.*?)</{tag}>', page)


def test_columns_of_formatted_numbers_are_right_aligned_header_included():
    frame = pd.DataFrame(
        {
            "Metric": ["Refund rate", "Late delivery rate"],
            "Value": ["1.3%", "4.97 per 1k"],
            "Change": ["+0.19 pp", "–"],
            "Confidence": ["p = 0.88", "p < 0.001"],
            "Week": ["2026-W47", "2026-W46"],
            "Orders": [2503, 12],
        }
    )
    page = html_table(frame)
    heads = dict((inner, klass) for klass, inner in cells(page, "th"))
    assert {name for name, klass in heads.items() if klass == "gne-num"} == {"Value", "Change", "Confidence", "Orders"}
    first_row = cells(page)[:6]
    assert ["gne-num" in klass for klass, _ in first_row] == [False, True, True, True, False, True]


def test_a_text_column_with_one_number_stays_left_aligned_a_number_column_with_one_word_does_not():
    page = html_table(
        pd.DataFrame({"Status": ["12", "still elevated, week 2", "maturing"], "Progress": ["44%", "went back", "90%"]})
    )
    classes = [klass for klass, _ in cells(page, "th") + cells(page)]
    assert ["gne-num" in klass for klass in classes] == [False, True] * 4


def test_long_text_is_clamped_with_the_whole_text_in_its_title():
    long = "Seller <b>text</b> " + "word " * LONG_TEXT
    page = html_table(pd.DataFrame({"Reason": [long, "short"]}))
    (first, _), (second, _) = [(inner, klass) for klass, inner in cells(page)]
    escaped = long.replace("<", "&lt;").replace(">", "&gt;")
    assert first == f'<span class="gne-trunc" title="{escaped}">{escaped}</span>'
    assert second == "short"


def test_good_and_bad_cells_and_cards_carry_their_icon():
    page = html_table(
        pd.DataFrame({"Change": ["+1.0 pp", "-2.0 pp", "+0.1 pp"]}), tone={"Change": pd.Series(["bad", "good", ""])}
    )
    marks = [re.findall(r'aria-label="(\w+)"[^>]*>([▲▼])<', inner) for _, inner in cells(page)]
    assert marks == [[("worse", "▼")], [("better", "▲")], []]
    card = cards([Card("Refund rate", "1.3%", "+16%", "bad"), Card("Orders", "2,503", "+2%")]).data
    assert card.count('class="gne-icon"') == 1 and ">▼</span>+16%" in card

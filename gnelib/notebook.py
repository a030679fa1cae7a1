"""What every report template does first: open the warehouse, apply the theme, resolve `latest`, and say whether
the week's data can be trusted before any number is shown."""

from dataclasses import dataclass

from IPython.display import display

from gnelib.periods import validate_week
from gnelib.quality import Completeness, check_completeness
from gnelib.viz import use_theme
from gnelib.viz.blocks import callout
from gnelib.warehouse import connect

ALL_MARKETS = "all"


@dataclass
class ReportContext:
    """The open warehouse and the resolved run parameters of one report."""

    conn: object
    market: str
    week: str
    completeness: Completeness | None

    @property
    def market_filter(self) -> dict | None:
        """`where=` for metric queries: this market, or nothing for `all`."""
        return None if self.market == ALL_MARKETS else {"market": self.market}

    @property
    def has_data(self) -> bool:
        return self.completeness is None or self.completeness.status != "no_data"


def resolve_week(conn, week: str) -> str:
    """`latest` → the warehouse's last complete ISO week; anything else must be a valid `YYYY-Www`."""
    return str(conn.meta()["last_complete_week"]) if week == "latest" else validate_week(week)


def start(market: str, week: str, warehouse: str | None = None) -> ReportContext:
    """Open the warehouse, apply the report theme and show the data-quality callout for `market` × `week`."""
    use_theme()
    conn = connect(warehouse)
    resolved = resolve_week(conn, week)
    completeness = None if market == ALL_MARKETS else check_completeness(conn, market, resolved)
    if completeness is not None:
        level = {"ok": "info", "partial": "warning"}.get(completeness.status, "error")
        display(callout(completeness.message, level, title="Data quality:"))
    return ReportContext(conn, market, resolved, completeness)

"""What every report template does first: open the warehouse (through the project config), apply the theme,
resolve `latest`, and say whether the week's data can be trusted before any number is shown."""

from dataclasses import dataclass

from IPython.display import display

from gnelib.config import load_project
from gnelib.datafacts import week_span
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
    market: str  # the value of the report grain (a market in the demo), or `all`
    week: str
    completeness: Completeness | None
    grain: str = "market"

    @property
    def market_filter(self) -> dict | None:
        """`where=` for metric queries: this grain value, or nothing for `all`."""
        return None if self.market == ALL_MARKETS else {self.grain: self.market}

    @property
    def has_data(self) -> bool:
        return self.completeness is None or self.completeness.status != "no_data"


def resolve_week(conn, week: str) -> str:
    """`latest` → the data's last complete ISO week; anything else must be a valid `YYYY-Www`."""
    return week_span(conn).last_complete_week if week == "latest" else validate_week(week)


def start(market: str, week: str, warehouse: str | None = None) -> ReportContext:
    """Open the warehouse, apply the report theme and show the data-quality callout for `market` × `week`
    (`market` is a value of the config's grain dimension, or `all`)."""
    use_theme()
    project = load_project()
    conn = connect(warehouse, project=project)
    resolved = resolve_week(conn, week)
    completeness = None if market == ALL_MARKETS else check_completeness(conn, market, resolved, project)
    if completeness is not None:
        level = {"ok": "info", "partial": "warning"}.get(completeness.status, "error")
        display(callout(completeness.message, level, title="Data quality:"))
    return ReportContext(conn, market, resolved, completeness, project.grain)

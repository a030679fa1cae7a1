"""Parameter validation before any kernel starts: names, types, values, and safe report paths."""

from pathlib import Path

import pytest

from gnelib.metrics.catalog import load_catalog
from gnelib.periods import shift_week
from gnelib.reporting.errors import ParameterError, closest_first
from gnelib.reporting.params import declared_parameters, validate_parameters
from gnelib.reporting.paths import report_paths

FIXTURES = Path(__file__).parent / "fixtures"
TYPED = FIXTURES / "typed.ipynb"


def test_declared_parameters_read_types_defaults_and_help():
    declared = declared_parameters(TYPED)
    assert list(declared) == ["market", "week", "metric", "threshold", "min_orders", "include_mall"]
    assert (declared["threshold"].type_name, declared["threshold"].default) == ("float", 0.05)
    assert (declared["include_mall"].type_name, declared["include_mall"].default) == ("bool", True)
    assert declared["market"].help == "market code"


def test_unknown_parameter_is_rejected_with_the_declared_names(context):
    with pytest.raises(ParameterError) as raised:
        validate_parameters(TYPED, {"markte": "US"}, context)
    message = str(raised.value)
    assert "'markte'" in message and "typed.ipynb" in message
    assert "choose one of: market," in message  # the closest declared name comes first


def test_defaults_resolve_latest_and_cli_strings_are_coerced(context, warehouse_truth):
    values = validate_parameters(
        TYPED, {"market": "us", "threshold": "0.1", "min_orders": "250", "include_mall": "false"}, context
    )
    assert values == {
        "market": "US",
        "week": warehouse_truth["meta"]["last_complete_week"],
        "metric": "refund_rate",
        "threshold": 0.1,
        "min_orders": 250,
        "include_mall": False,
    }


@pytest.mark.parametrize(
    ("name", "value", "expected"),
    [
        ("min_orders", "12.5", "is not a int"),
        ("threshold", "lots", "is not a float"),
        ("include_mall", "maybe", "bool"),
    ],
)
def test_values_that_do_not_fit_the_declared_type_are_rejected(context, name, value, expected):
    with pytest.raises(ParameterError, match=expected) as raised:
        validate_parameters(TYPED, {name: value}, context)
    assert repr(value) in str(raised.value) and repr(name) in str(raised.value)


def test_unknown_market_lists_the_warehouse_markets_closest_first(context, warehouse_truth):
    with pytest.raises(ParameterError) as raised:
        validate_parameters(TYPED, {"market": "UX"}, context)
    message = str(raised.value)
    assert "'market'" in message and "'UX'" in message
    listed = message.split("choose one of: ")[1].rstrip(".").split(", ")
    assert sorted(listed) == warehouse_truth["markets"]
    assert listed == closest_first("UX", warehouse_truth["markets"])
    assert listed[0] == "US"


@pytest.mark.parametrize("value", ["US'; DROP TABLE orders;--", "US OR 1=1", "all"])
def test_injection_strings_and_all_are_not_markets(context, value):
    with pytest.raises(ParameterError, match="not a market in the warehouse"):
        validate_parameters(TYPED, {"market": value}, context)


@pytest.mark.parametrize("value", ["2026-47", "W47", "2026-W60", "last week", "../../etc"])
def test_malformed_weeks_are_rejected_with_the_format(context, value):
    with pytest.raises(ParameterError, match="YYYY-Www") as raised:
        validate_parameters(TYPED, {"week": value}, context)
    assert repr(value) in str(raised.value)


def test_weeks_outside_the_complete_data_are_rejected(context, warehouse_truth):
    meta = warehouse_truth["meta"]
    for week in (shift_week(meta["first_week"], -1), shift_week(meta["last_complete_week"], 1)):
        with pytest.raises(ParameterError, match="outside the data") as raised:
            validate_parameters(TYPED, {"week": week}, context)
        assert meta["first_week"] in str(raised.value) and meta["last_complete_week"] in str(raised.value)
    assert validate_parameters(TYPED, {"week": meta["first_week"]}, context)["week"] == meta["first_week"]
    assert validate_parameters(TYPED, {"week": "2026-w47"}, context)["week"] == "2026-W47"


def test_metric_must_be_in_the_catalog(context):
    names = load_catalog().names()
    assert validate_parameters(TYPED, {"metric": names[0]}, context)["metric"] == names[0]
    with pytest.raises(ParameterError) as raised:
        validate_parameters(TYPED, {"metric": "refund_rat"}, context)
    assert "choose one of: refund_rate," in str(raised.value)


def test_experiment_must_be_in_the_configured_experiments_source(context, warehouse_truth, tmp_path):
    template = _template_with(tmp_path, 'experiment: str = "x"  # experiment name\n')
    (known_id, known_name) = warehouse_truth["experiments"][0]
    assert validate_parameters(template, {"experiment": known_name}, context)["experiment"] == known_name
    by_id = validate_parameters(template, {"experiment": str(known_id)}, context)
    assert by_id["experiment"] == str(known_id)
    with pytest.raises(ParameterError, match="not an experiment in the experiments source") as raised:
        validate_parameters(template, {"experiment": "refund_slow_track"}, context)
    assert all(name in str(raised.value) for _, name in warehouse_truth["experiments"])


def test_market_all_is_accepted_only_where_the_template_defaults_to_all(context, tmp_path):
    template = _template_with(tmp_path, 'market: str = "all"  # market code or all\n')
    assert validate_parameters(template, {"market": "ALL"}, context)["market"] == "all"
    assert validate_parameters(template, {"market": "gb"}, context)["market"] == "GB"


def test_several_problems_are_reported_together(context):
    with pytest.raises(ParameterError) as raised:
        validate_parameters(TYPED, {"market": "XX", "week": "soon", "colour": "red"}, context)
    assert all(bad in str(raised.value) for bad in ("'XX'", "'soon'", "'colour'"))
    assert str(raised.value).count("\n") == 2


def test_a_template_without_a_parameters_cell_is_refused(tmp_path):
    import nbformat

    path = tmp_path / "plain.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x = 1")]), path)
    with pytest.raises(ParameterError, match="tag its parameters cell"):
        declared_parameters(path)


@pytest.mark.parametrize(
    ("week", "market", "template"),
    [
        ("../../etc", "US", "x"),
        ("2026-W47", "..", "x"),
        ("2026-W47", "US", "../index"),
        ("2026-W47", "/tmp", "x"),
    ],
)
def test_report_paths_never_leave_the_reports_directory(tmp_path, week, market, template):
    with pytest.raises(ParameterError, match="not allowed"):
        report_paths(tmp_path / "reports", week, market, template)


def test_report_paths_follow_the_layout(tmp_path):
    paths = report_paths(tmp_path / "reports", "2026-W47", "US", "weekly_scorecard")
    root = (tmp_path / "reports").resolve()
    assert paths.html == root / "2026-W47" / "US" / "weekly_scorecard.html"
    assert paths.notebook.name == "weekly_scorecard.ipynb" and paths.log.name == "weekly_scorecard.log"


def _template_with(directory: Path, parameters: str) -> Path:
    import nbformat

    cell = nbformat.v4.new_code_cell(parameters)
    cell.metadata["tags"] = ["parameters"]
    path = directory / "template.ipynb"
    notebook = nbformat.v4.new_notebook(cells=[cell])
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(notebook, path)
    return path

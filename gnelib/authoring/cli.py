"""`gne new template|metric` and `gne preview`: the command-line surface of gnelib.authoring."""

import shlex
import sys
import webbrowser
from pathlib import Path
from typing import Annotated

import typer

from gnelib.errors import GneError

EXIT_FAILED, EXIT_BAD_INPUT = 1, 2

new_app = typer.Typer(help="Scaffold a report template or a catalog metric.", no_args_is_help=True)


def register(app: typer.Typer) -> None:
    """Add `gne new` and `gne preview` to the top-level app."""
    app.add_typer(new_app, name="new")
    app.command(
        "preview",
        no_args_is_help=True,
        context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    )(preview)


@new_app.command("template")
def new_template(
    name: Annotated[
        str, typer.Argument(help="The template's name: notebooks/NAME.ipynb (lower_case_with_underscores).")
    ],
    source: Annotated[
        str | None, typer.Option("--from", help="Start from a copy of this template (e.g. metric_deep_dive).")
    ] = None,
    metric: Annotated[
        str | None,
        typer.Option(
            help="The metric of the thin template's parameters (default: the config's completeness metric).",
            show_default=False,
        ),
    ] = None,
    notebooks: Annotated[Path, typer.Option(help="The templates folder.")] = Path("notebooks"),
    plan: Annotated[Path, typer.Option(help="The run plan the template is added to.")] = Path("parameters/weekly.yaml"),
    references: Annotated[Path, typer.Option(help="The nbval reference parameters (REFERENCE_PARAMETERS).")] = Path(
        "tests/notebooks/refresh.py"
    ),
) -> None:
    """Write a thin template (parameters cell, notebook.start, Key insights, a trend chart) or a copy of --from, pair
    it with notebooks/NAME.py, add it to the plan and the nbval references, and print the next commands."""
    from gnelib.authoring.template import ProjectFiles
    from gnelib.authoring.template import new_template as scaffold
    from gnelib.config import load_project

    try:
        chosen = metric or load_project().completeness.metric
        done = scaffold(name, ProjectFiles(notebooks, plan, references), source, chosen)
    except GneError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    template = notebooks / f"{name}.ipynb"
    options = " ".join(f"-p {key} {shlex.quote(str(value))}" for key, value in done.parameters.items())
    print("wrote " + ", ".join(str(path) for path in done.files))
    print("next:")
    for command, why in (
        (f"gne preview {template} {options} --watch", "render it again on every save (the .py or in make lab)"),
        ("make sync-notebooks", f"after editing {template.with_suffix('.py')} outside gne preview"),
        ("make nbval-refresh && git diff tests/notebooks", f"create its nbval reference tests/notebooks/{name}.ipynb"),
        (f"git add {' '.join(str(path) for path in done.files)} tests/notebooks/{name}.ipynb", "commit them all"),
    ):
        print(f"  {command}\n      # {why}")


@new_app.command("metric")
def new_metric(
    name: Annotated[str, typer.Argument(help="The metric's name (lower_case_with_underscores).")],
    group: Annotated[str, typer.Option(help="Its pillar or group: the catalog file whose defaults name it.")],
    kind: Annotated[str, typer.Option(help="ratio or count (other kinds: write the entry by hand).")] = "ratio",
    catalog: Annotated[
        Path | None,
        typer.Option(
            help="The catalog directory (default: $GNE_CATALOG, else the config's catalog).", show_default=False
        ),
    ] = None,
    references: Annotated[Path, typer.Option(help="The pandas references of the metric value test.")] = Path(
        "tests/metrics/metric_reference.py"
    ),
) -> None:
    """Add a catalog entry with placeholder SQL (the catalog loads it) and a pandas reference stub; print the next
    commands."""
    from gnelib.authoring.metric import new_metric as scaffold
    from gnelib.metrics.catalog import catalog_location

    try:
        files = scaffold(name, group, kind, catalog_location(catalog), references)
    except GneError as error:
        print(f"error: {error}", file=sys.stderr)
        raise typer.Exit(EXIT_BAD_INPUT) from None
    print("wrote " + ", ".join(str(path) for path in files))
    print("next:")
    for command, why in (
        (f"$EDITOR {files[0]}", "describe it; replace the numerator/denominator SQL, direction and format"),
        (f"gne metrics show {name} && gne metrics sql {name} --by market", "check the definition and its SQL"),
        (f"$EDITOR {files[1]}", f"write {name}'s pandas computation (the stub raises NotImplementedError)"),
        (f"pytest tests/metrics/test_metric_values.py -k {name}", "the SQL against the pandas reference"),
        ("gne metrics docs", "regenerate docs/metrics.md"),
    ):
        print(f"  {command}\n      # {why}")


def preview(
    context: typer.Context,
    template: Annotated[Path, typer.Argument(help="The template (notebooks/<name>.ipynb).")],
    watch: Annotated[
        bool, typer.Option("--watch", help="Render again when the template, its .py pair or gnelib changes.")
    ] = False,
    open_page: Annotated[bool, typer.Option("--open", help="Open the page in the default browser.")] = False,
    reports_dir: Annotated[Path, typer.Option(help="Where preview pages go (not the published reports).")] = Path(
        "build/preview"
    ),
    warehouse: Annotated[
        str | None,
        typer.Option(help="Warehouse file or URL (default: $GNE_WAREHOUSE, else gne.yaml).", show_default=False),
    ] = None,
    catalog: Annotated[
        Path | None,
        typer.Option(help="Metric catalog directory (default: $GNE_CATALOG, else gne.yaml).", show_default=False),
    ] = None,
    interval: Annotated[float, typer.Option(min=0.1, help="--watch: seconds between checks for changes.")] = 1.0,
) -> None:
    """Render one report with a warm kernel, as `gne run` would, and print the page's path. Parameters as for
    `gne run`: -p NAME VALUE (repeat), e.g. gne preview notebooks/seller_risk.ipynb -p market ID --watch

    Exit status: 0 the report rendered, 1 the notebook failed (its failure page is written), 2 bad input."""
    from gnelib.authoring.preview import Preview, describe
    from gnelib.authoring.preview import watch as watch_changes
    from gnelib.reporting.cli import parameter_pairs
    from gnelib.reporting.rundir import private_run_directory

    record: dict = {"status": "stopped"}
    with private_run_directory() as kernel_dir:
        try:
            pairs = parameter_pairs(context.args)
            values = dict(pairs)
            if len(values) < len(pairs):
                raise GneError("A parameter is given twice; give each -p NAME VALUE once.")
            session = Preview(template, values, reports_dir, kernel_dir, warehouse, catalog)
        except GneError as error:
            print(f"error: {error}", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        try:
            record = session.render()
            print(describe(record, reports_dir), flush=True)
            if open_page and record.get("html"):
                webbrowser.open((session.reports_dir / record["html"]).as_uri())
            if watch:
                watch_changes(session, lambda line: print(line, flush=True), interval)
        except GneError as error:
            print(f"error: {error}", file=sys.stderr)
            raise typer.Exit(EXIT_BAD_INPUT) from None
        except KeyboardInterrupt:
            pass
        finally:
            session.close()
    raise typer.Exit(0 if watch or record["status"] == "ok" else EXIT_FAILED)

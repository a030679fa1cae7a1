"""An Airflow DAG from a run plan: `plan` lists the plan's report slots, one mapped `report` task per slot
(dynamic task mapping, retried per slot), then `digest_and_index` builds each week's digest, the index, and sends
the alerts once.

The tasks run the project's own Python (`python -m gnelib.airflow …`, in the project directory), so the Airflow
environment needs only this file's standard-library imports and Airflow itself, not gnelib's dependencies.
Every task that writes the manifest, the index or the digest holds the reports directory's lock (waiting for it),
so a cron `gne run` and the DAG never write the same reports directory at once; the report tasks therefore write
one at a time per reports directory. The `report` tasks set `GNE_ALERTS=off`: alerts go out once, at the end.

Put a file like this in the DAG folder (with the project on PYTHONPATH):

    from gnelib.airflow import build_dag
    dag = build_dag("/srv/gne-reports/parameters/weekly.yaml", project_dir="/srv/gne-reports",
                    python="/srv/gne-reports/.venv/bin/python", schedule="0 6 * * 1")
"""

import argparse
import datetime as dt
import json
import os
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path

ALERTS_ENV_VAR = "GNE_ALERTS"  # `off`: this process sends no alerts (the DAG's report tasks)
FINISH_TASK = "digest_and_index"


def slot_command(python: str, plan: str, slot: str, reports_dir: str) -> str:
    """The shell command of one mapped report task."""
    words = [python, "-m", "gnelib.airflow", "run-slot", plan, slot, "--reports-dir", reports_dir]
    return f"{ALERTS_ENV_VAR}=off " + " ".join(shlex.quote(word) for word in words)


def finish_command(python: str, plan: str, reports_dir: str) -> str:
    """The shell command of the final task: digests, index and alerts for the plan's weeks."""
    words = [python, "-m", "gnelib.airflow", "finish", plan, "--reports-dir", reports_dir]
    return " ".join(shlex.quote(word) for word in words)


def task_commands(slots: Sequence[str], python: str, plan: str, reports_dir: str) -> list[str]:
    """One report command per slot, in plan order (what the `report` task is mapped over)."""
    return [slot_command(python, plan, slot, reports_dir) for slot in slots]


def build_dag(plan: str | os.PathLike, *, project_dir: str | os.PathLike | None = None, python: str | None = None,
              reports_dir: str = "reports", dag_id: str | None = None, schedule: str | None = "0 6 * * 1",
              start_date: dt.datetime | None = None, retries: int = 1,
              retry_delay: dt.timedelta = dt.timedelta(minutes=5), sla: dt.timedelta = dt.timedelta(hours=6),
              report_timeout: dt.timedelta = dt.timedelta(minutes=45), env: dict[str, str] | None = None):
    """The DAG of `plan` (Airflow 2.x or 3.x). `sla`: the whole run's deadline (`dagrun_timeout`; Airflow 3 has no
    per-task SLA); `report_timeout`: one report task's `execution_timeout`; `env`: extra environment for the tasks
    (e.g. GNE_WAREHOUSE)."""
    try:
        from airflow.sdk import DAG, task
    except ImportError:  # Airflow 2, or no Airflow
        try:
            from airflow import DAG
            from airflow.decorators import task
        except ImportError:
            raise ImportError("build_dag needs Apache Airflow in the environment that parses the DAG file: "
                              "pip install 'gnelib[airflow]' (or apache-airflow) there") from None
    try:
        from airflow.providers.standard.operators.bash import BashOperator
    except ImportError:  # Airflow 2 without the standard provider
        from airflow.operators.bash import BashOperator

    project = str(Path(project_dir or Path.cwd()).resolve())
    python = python or sys.executable
    plan = str(plan)
    environment = {**(env or {})}
    with DAG(
        dag_id or f"gne_{Path(plan).stem}",
        schedule=schedule,
        start_date=start_date or dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
        catchup=False,
        max_active_runs=1,
        dagrun_timeout=sla,
        default_args={"retries": retries, "retry_delay": retry_delay},
        tags=["gne-reports"],
    ) as dag:

        @task(task_id="plan")
        def plan_slots() -> list[str]:
            import subprocess

            done = subprocess.run([python, "-m", "gnelib.airflow", "slots", plan, "--reports-dir", reports_dir],
                                  cwd=project, env={**os.environ, **environment}, capture_output=True, text=True)
            if done.returncode != 0:
                raise RuntimeError(f"the plan could not be expanded: {done.stderr.strip()[-2000:]}")
            return task_commands(json.loads(done.stdout.strip().splitlines()[-1]), python, plan, reports_dir)

        reports = BashOperator.partial(task_id="report", cwd=project, env=environment, append_env=True,
                                       execution_timeout=report_timeout).expand(bash_command=plan_slots())
        finish = BashOperator(task_id=FINISH_TASK, bash_command=finish_command(python, plan, reports_dir),
                              cwd=project, env=environment, append_env=True, trigger_rule="all_done")
        reports >> finish
    return dag


def _context(plan: str):
    """(validation context, loaded plan), as `gne run` builds them."""
    from gnelib.check import check_project
    from gnelib.reporting.facts import resolve_project
    from gnelib.reporting.params import ValidationContext
    from gnelib.reporting.plan import load_plan

    project = resolve_project()
    report = check_project(project, execute=False)
    if report.fatal:
        from gnelib.errors import GneError

        raise GneError("\n".join(report.lines())
                       + "\nNothing ran: fix the config or the warehouse (`gne check` lists every problem).")
    return ValidationContext(project=project, unavailable=tuple(report.unavailable)), load_plan(plan)


def _specs(plan: str, loaded, reports_dir: Path, context) -> list:
    """Every run of the plan, its flagged deep dives included. The flagged part scans the week and writes its
    findings, so call this holding the reports directory's lock (as `gne run` does)."""
    from gnelib.reporting.plan import expand_plan, flagged_runs

    fixed = expand_plan(loaded, Path(plan), reports_dir, context, follow_flags=False)
    return fixed + flagged_runs(loaded, Path(plan), reports_dir, context)


def _slots(plan: str, reports_dir: Path) -> int:
    from gnelib.reporting.lock import run_lock

    context, loaded = _context(plan)
    with run_lock(reports_dir, f"{plan} slots", wait=True):
        specs = _specs(plan, loaded, reports_dir, context)
    print(json.dumps([spec.slot for spec in specs if not spec.unmet]))
    return 0


def _run_slot(plan: str, slot: str, reports_dir: Path, force: bool) -> int:
    from gnelib.reporting.batch import FAILED_STATUSES, BatchOptions, decide, run_batch
    from gnelib.reporting.lock import run_lock

    context, loaded = _context(plan)
    with run_lock(reports_dir, f"{plan} {slot}", wait=True):
        specs = _specs(plan, loaded, reports_dir, context)
        chosen = [spec for spec in specs if spec.slot == slot]
        if not chosen:
            print(f"error: {slot} is not a report of {plan} (any more); the plan lists: "
                  f"{', '.join(spec.slot for spec in specs[:10])}", file=sys.stderr)
            return 2
        records = run_batch(decide(chosen, reports_dir, force), BatchOptions(reports_dir, workers=1), context.facts)
    failed = [record for record in records if record["status"] in FAILED_STATUSES]
    for record in failed:
        print(f"FAILED {record['slot']}: {record.get('error')}; log: {record['log']}", file=sys.stderr)
    return 1 if failed else 0


def _finish(plan: str, reports_dir: Path) -> int:
    from gnelib.reporting.alerts import alert_settings, send_alerts
    from gnelib.reporting.digest import publish_digests
    from gnelib.reporting.index import write_index
    from gnelib.reporting.lock import run_lock
    from gnelib.reporting.manifest import load_manifest

    context, loaded = _context(plan)
    with run_lock(reports_dir, f"{plan} {FINISH_TASK}", wait=True):
        specs = _specs(plan, loaded, reports_dir, context)
        manifest = load_manifest(reports_dir)
        records = [manifest[spec.slot] for spec in specs if spec.slot in manifest]
        digests = publish_digests(reports_dir, context.facts, records, manifest)
        write_index(reports_dir, manifest, context.facts.grain)
    send_alerts(digests, alert_settings(context.facts))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """`python -m gnelib.airflow slots|run-slot|finish PLAN …`: what the DAG's tasks run."""
    parser = argparse.ArgumentParser(prog="python -m gnelib.airflow", description=main.__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("slots", "run-slot", "finish"):
        command = commands.add_parser(name)
        command.add_argument("plan")
        if name == "run-slot":
            command.add_argument("slot")
            command.add_argument("--force", action="store_true")
        command.add_argument("--reports-dir", default="reports")
    arguments = parser.parse_args(argv)
    reports_dir = Path(arguments.reports_dir)
    from gnelib.errors import GneError

    try:
        if arguments.command == "slots":
            return _slots(arguments.plan, reports_dir)
        if arguments.command == "run-slot":
            return _run_slot(arguments.plan, arguments.slot, reports_dir, arguments.force)
        return _finish(arguments.plan, reports_dir)
    except GneError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

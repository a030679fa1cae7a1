"""The DAG in real Apache Airflow (installed from PyPI into a virtual environment this test creates, several
minutes): the DAG file imports without errors (DagBag), has the plan → mapped report → digest_and_index shape, and
`airflow dags test` runs a scorecard plan end to end on the small warehouse. Run with `make airflow-test`."""

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

REPO = Path(__file__).parents[2]
pytestmark = pytest.mark.airflow

DAG_FILE = """
import os
from gnelib.airflow import build_dag

dag = build_dag(os.environ["GNE_TEST_PLAN"], project_dir=os.environ["GNE_TEST_PROJECT"],
                python=os.environ["GNE_TEST_PYTHON"], reports_dir=os.environ["GNE_TEST_REPORTS"], dag_id="gne_test",
                env={"GNE_WAREHOUSE": os.environ["GNE_TEST_WAREHOUSE"]})
"""

CHECK = """
import json
from airflow.models import DagBag
bag = DagBag()
dag = bag.dags["gne_test"]
report = dag.get_task("report")
print(json.dumps({"errors": {k: str(v) for k, v in bag.import_errors.items()},
                  "tasks": sorted(t.task_id for t in dag.tasks),
                  "upstream_of_finish": sorted(dag.get_task("digest_and_index").upstream_task_ids),
                  "mapped": type(report).__name__, "retries": report.partial_kwargs.get("retries", None),
                  "timeout_h": dag.dagrun_timeout.total_seconds() / 3600}))
"""


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory, small_warehouse):
    root = tmp_path_factory.mktemp("airflow")
    venv.EnvBuilder(with_pip=True).create(root / "venv")
    python = root / "venv" / "bin" / "python"
    subprocess.run([python, "-m", "pip", "install", "--quiet", "apache-airflow"], check=True, timeout=1200)
    home = root / "home"
    (home / "dags").mkdir(parents=True)
    (home / "dags" / "gne_test.py").write_text(DAG_FILE)
    plan = root / "plan.yaml"
    plan.write_text(f"templates_dir: {REPO / 'notebooks'}\nmarkets: [US]\nweeks: latest\n"
                    "templates:\n  weekly_scorecard: {}\n")
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(home / "dags"),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False", "PYTHONPATH": str(REPO), "GNE_TEST_PLAN": str(plan),
           "GNE_TEST_PROJECT": str(REPO), "GNE_TEST_PYTHON": sys.executable, "GNE_TEST_REPORTS": str(root / "reports"),
           "GNE_TEST_WAREHOUSE": str(small_warehouse)}
    subprocess.run([root / "venv" / "bin" / "airflow", "db", "migrate"], env=env, check=True, capture_output=True)
    return root, python, env


def test_the_dag_file_imports_without_errors(airflow_env):
    _, python, env = airflow_env
    done = subprocess.run([python, "-c", CHECK], env=env, capture_output=True, text=True, check=True)
    shape = json.loads(done.stdout.strip().splitlines()[-1])
    assert shape["errors"] == {}
    assert shape["tasks"] == ["digest_and_index", "plan", "report"]
    assert shape["upstream_of_finish"] == ["report"] and shape["mapped"] == "MappedOperator"
    assert shape["timeout_h"] == 6


def test_dags_test_runs_the_plan_end_to_end(airflow_env):
    root, _, env = airflow_env
    done = subprocess.run([root / "venv" / "bin" / "airflow", "dags", "test", "gne_test"], env=env,
                          capture_output=True, text=True, timeout=1800)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "state=success" in done.stdout + done.stderr
    runs = json.loads((root / "reports" / "runs.json").read_text())["runs"]
    assert [(run["slot"], run["status"]) for run in runs] == [("2026-W47/US/weekly_scorecard", "ok")]
    assert (root / "reports" / "2026-W47" / "digest.html").is_file()
    assert 'href="2026-W47/digest.html"' in (root / "reports" / "index.html").read_text()

"""`gne preview NOTEBOOK -p market ID`: one report rendered as `gne run` renders it (same validation, the reporting
worker's warm kernel, execute and render), written under a preview folder instead of the published reports.

With `--watch` the kernel stays warm and the report is rendered again whenever the template, its py:percent pair
or a gnelib file changes (polling). A gnelib change restarts the kernel, so the new code is imported; a change to
gnelib.reporting itself (validation, rendering) needs `gne preview` started again.
"""

import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import gnelib
from gnelib.authoring.template import sync_pair
from gnelib.check import check_project
from gnelib.errors import GneError
from gnelib.reporting import worker
from gnelib.reporting.command import shown
from gnelib.reporting.environment import kernel_environment
from gnelib.reporting.facts import resolve_project
from gnelib.reporting.params import ValidationContext
from gnelib.reporting.plan import build_spec
from gnelib.reporting.rerun import rerun_command
from gnelib.reporting.rundir import KERNEL_DIR_ENV

GNELIB = Path(gnelib.__file__).resolve().parent
WATCHED_SUFFIXES = (".py", ".yaml", ".j2", ".css", ".html", ".json")


class Preview:
    """One template × parameters, rendered on demand with the same warm kernel (in this process)."""

    def __init__(
        self,
        template: Path,
        values: dict[str, object],
        reports_dir: Path,
        kernel_dir: Path,
        warehouse: str | None = None,
        catalog: Path | None = None,
        timeout: float = 1800.0,
    ):
        project = resolve_project(warehouse, catalog)
        report = check_project(project, execute=False)
        if report.fatal:
            raise GneError("\n".join([*report.lines(), "Fix the config or the warehouse (`gne check`)."]))
        self.template, self.values, self.timeout = template, values, timeout
        self.reports_dir = reports_dir.resolve()
        self.context = ValidationContext(project=project, unavailable=tuple(report.unavailable))
        environment = kernel_environment(self.context.facts, self.reports_dir)
        worker.initialize("warm", Path.cwd(), {**environment, KERNEL_DIR_ENV: str(kernel_dir)})

    def render(self) -> dict:
        """Validate (the template may have changed), execute and render; the run record (`html`: the page)."""
        spec = build_spec(self.template, self.values, self.reports_dir, self.context)
        facts = self.context.facts
        job = worker.Job(
            spec,
            spec.input_hash(),
            facts.as_of,
            self.timeout,
            self.reports_dir,
            rerun_command(spec, self.reports_dir, facts, Path.cwd()),
            facts.grain,
        )
        return worker.run_job(job)

    def restart_kernel(self) -> None:
        """Stop the warm kernel: the next render starts one that imports gnelib anew."""
        worker.shutdown()

    def close(self) -> None:
        worker.shutdown()


def describe(record: dict, reports_dir: Path) -> str:
    """`ok  <page> (3.2 s)` or `failed  <page> (...): ename: evalue`, paths as the user can open them."""
    page = shown(reports_dir.resolve() / record["html"]) if record.get("html") else "-"
    line = f"{record['status']}  {page} ({record['duration_s']:.1f} s)"
    error = record.get("error")
    return f"{line}: {error['ename']}: {error['evalue']}" if error else line


def watched_files(template: Path) -> list[Path]:
    """The template, its pair and gnelib's code and data files."""
    files = [template, template.with_suffix(".py")]
    return files + sorted(path for path in GNELIB.rglob("*") if path.suffix in WATCHED_SUFFIXES)


def snapshot(files: Iterable[Path]) -> dict[Path, int]:
    """Modification times (ns) of the files that exist."""
    times = {}
    for path in files:
        try:
            times[path] = path.stat().st_mtime_ns
        except FileNotFoundError:
            continue
    return times


def watch(preview: Preview, report: Callable[[str], None], interval: float = 1.0) -> None:
    """Render again on every change until interrupted (Ctrl-C): a changed .py pair is synced into the template
    first (the newer file wins), a gnelib change restarts the kernel. Bad input or a failed run is reported and
    the watch goes on."""
    seen = snapshot(watched_files(preview.template))
    while True:
        time.sleep(interval)
        now = snapshot(watched_files(preview.template))
        changed = sorted(path for path in now.keys() | seen.keys() if now.get(path) != seen.get(path))
        if not changed:
            continue
        report(
            f"changed: {', '.join(str(shown(path)) for path in changed[:3])}"
            + (f" and {len(changed) - 3} more" if len(changed) > 3 else "")
            + "; rendering again"
        )
        if preview.template.with_suffix(".py") in changed:
            sync_pair(preview.template)
        if any(path.is_relative_to(GNELIB) for path in changed):
            preview.restart_kernel()
        try:
            report(describe(preview.render(), preview.reports_dir))
        except GneError as error:
            print(f"error: {error}", file=sys.stderr, flush=True)
        seen = snapshot(watched_files(preview.template))

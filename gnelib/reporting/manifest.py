"""The run manifest, `reports/runs.json`: the last record of every report slot.

A manifest that cannot be read (cut short, edited by hand, overwritten) is moved aside to
`runs.json.corrupt-<time>` with a one-line warning, and so is a missing one rebuilt: from the report slots on disk
(`<week>/<market>/<template>.{html,ipynb,log}` and their `.failed.*` files). A rebuilt record takes its status from
the page (a good report, a failure page, a kept report beside a failure page), its input hash from the page's
`gne-input-hash` (so an unchanged report is still skipped) and its parameters from the executed notebook.
"""

import datetime as dt
import json
import re
import sys
from pathlib import Path

import gnelib
from gnelib.atomic import atomic_write_text, move_aside
from gnelib.reporting.errors import ParameterError
from gnelib.reporting.failure import is_good_report
from gnelib.reporting.paths import ReportPaths, report_paths

MANIFEST_NAME = "runs.json"
_ISO_WEEK = re.compile(r"^\d{4}-W\d{2}$")
_INPUT_HASH = re.compile(rb'<meta[^>]*name="gne-input-hash"[^>]*>')  # nbconvert may reorder the attributes
_CONTENT = re.compile(rb'content="([0-9a-f]*)"')
REQUIRED = ("template", "market", "week", "status", "input_hash", "started")
REBUILT = "rebuilt from the files on disk: runs.json was lost or unreadable"


def load_manifest(reports_dir: Path) -> dict[str, dict]:
    """The last record of every report slot, by `week/market/template`: read from runs.json, or rebuilt from the
    reports on disk when it is missing or corrupt (a corrupt one is moved aside, with a warning on stderr)."""
    path = reports_dir / MANIFEST_NAME
    if not path.is_file():
        return rebuild_manifest(reports_dir)
    try:
        return _parse(path.read_bytes())
    except (ValueError, KeyError, TypeError):  # not JSON (ValueError covers bad UTF-8), or not a manifest
        aside = move_aside(path)
        print(f"warning: {MANIFEST_NAME} was corrupt; moved to {aside.name}; rebuilt from the reports on disk",
              file=sys.stderr)
        return rebuild_manifest(reports_dir)


def _parse(data: bytes) -> dict[str, dict]:
    """The records of a manifest, by slot; ValueError unless every record has the fields the runner reads."""
    manifest = {run["slot"]: run for run in json.loads(data)["runs"]}
    for slot, run in manifest.items():
        if not (isinstance(slot, str) and all(isinstance(run.get(key), str) for key in REQUIRED)):
            raise ValueError(f"record {slot!r} lacks one of {', '.join(REQUIRED)}")
    return manifest


def save_manifest(reports_dir: Path, runs: dict[str, dict]) -> Path:
    """Write the manifest atomically, newest week first."""
    path = reports_dir / MANIFEST_NAME
    by_slot = sorted(runs.values(), key=lambda run: (run["market"], run["template"]))
    ordered = sorted(by_slot, key=lambda run: run["week"], reverse=True)
    document = {
        "generated": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "gnelib": gnelib.__version__,
        "runs": ordered,
    }
    atomic_write_text(path, json.dumps(document, indent=2, sort_keys=True, default=str) + "\n")
    return path


def rebuild_manifest(reports_dir: Path) -> dict[str, dict]:
    """A record for every report slot found on disk (see the module docstring)."""
    records = {}
    for week in sorted(reports_dir.glob("*")):
        if not (week.is_dir() and _ISO_WEEK.match(week.name)):
            continue
        for market in sorted(folder for folder in week.iterdir() if folder.is_dir()):
            names = {path.stem for path in (*market.glob("*.html"), *market.glob("*.ipynb")) if "." not in path.stem}
            for name in sorted(names):
                try:
                    paths = report_paths(reports_dir, week.name, market.name, name)
                except ParameterError:  # a folder or file gne run would not have written
                    continue
                records[f"{week.name}/{market.name}/{name}"] = _rebuilt_record(reports_dir.resolve(), paths, name)
    return records


def _rebuilt_record(root: Path, paths: ReportPaths, template: str) -> dict:
    good = is_good_report(paths.html)
    kept = good and paths.failure.is_file()
    status = "stale-previous-kept" if kept else "ok" if good else "failed"
    notebook_path = paths.failed_notebook if kept else paths.notebook
    papermill = _papermill_metadata(notebook_path)
    shown = paths.html if paths.html.is_file() else notebook_path  # one of them holds the slot's name

    def rel(path: Path) -> str | None:
        return path.relative_to(root).as_posix() if path.is_file() else None

    return {
        "slot": f"{paths.directory.parent.name}/{paths.directory.name}/{template}",
        "template": template,
        "template_path": papermill.get("input_path", ""),
        "market": paths.directory.name,
        "week": paths.directory.parent.name,
        "parameters": papermill.get("parameters", {}),
        "action": "rebuilt",
        "input_hash": _input_hash(paths.html) if status == "ok" else "",  # another status is run again anyway
        "data_version": "",
        "status": status,
        "started": dt.datetime.fromtimestamp(shown.stat().st_mtime, dt.UTC).isoformat(timespec="seconds"),
        "duration_s": 0.0,
        "attempts": 0,
        "html": rel(paths.html),
        "failure_page": rel(paths.failure) if kept else None,
        "notebook": rel(notebook_path),
        "log": rel(paths.failed_log if kept else paths.log),
        "kept_notebook": rel(paths.notebook) if kept else None,
        "kept_log": rel(paths.log) if kept else None,
        "error": None if status == "ok" else {"kind": "unknown", "ename": "", "evalue": REBUILT},
    }


def _papermill_metadata(notebook: Path) -> dict:
    """The executed notebook's papermill metadata (input path, parameters); empty if it cannot be read."""
    try:
        return dict(json.loads(notebook.read_bytes())["metadata"]["papermill"])
    except (OSError, ValueError, KeyError, TypeError):
        return {}


def _input_hash(page: Path) -> str:
    with open(page, "rb") as handle:
        meta = _INPUT_HASH.search(handle.read(16384))
    content = _CONTENT.search(meta.group(0)) if meta else None
    return content.group(1).decode() if content else ""

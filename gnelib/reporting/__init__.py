"""Reporting: validate parameters, execute notebook templates with papermill, publish HTML, keep an index.

`gne run PLAN.yaml` (or `gne run notebooks/X.ipynb -p market US -p week latest`) goes through:

- `params`   — what a template declares (its parameters cell, read with `ast`), type coercion, validators by name
               (market, week, metric, experiment); all before any kernel starts.
- `plan`     — `parameters/*.yaml` (safe_load + pydantic) expanded to template × market × week `RunSpec`s.
- `paths`    — `reports/<week>/<market>/<template>.{html,ipynb,log}`, built from validated values only.
- `batch`    — run/skip decision (hash of template, parameters, gnelib version, data version), a process pool,
               progress on stderr, the manifest updated as runs finish; one failure never stops the others.
- `worker`   — per pool process: a `KernelSource` (`kernel_pool`); runs `execute` then `render` or `failure`.
- `execute`  — papermill with our `gne-kernel` engine (a kernel we started: warm and reused, or fresh);
               per-run timeout (interrupt, then kill); a dead kernel is replaced and the run retried once.
- `render`   — nbconvert `HTMLExporter` with `templates/gne` (extends `lab`): no code, prompts, stderr or
               parameter cells; header; server-side table of contents; self-contained; print-friendly CSS.
- `gnelib.atomic` — every file a run writes: temp file (O_EXCL), checked (complete JSON, non-empty HTML), fsync,
               `os.replace`: readers see the old file or the new one, never half; a full disk keeps the old
               file and raises `DiskFull` (said once). A killed run's temporaries are swept at the next start.
- `manifest` — `reports/runs.json` (machine-readable); a corrupt one is moved aside and rebuilt from the reports
               on disk.
- `index`    — `reports/index.html` (newest week first).
- `lock`     — one `gne run` per reports directory (exit 3, or `--wait`): flock, no-follow, inherited by the
               forked workers so it lasts until the last of them has exited.
- `lifecycle`— workers and kernels die with the run: SIGTERM/SIGINT/SIGHUP stop the pool before the lock is
               let go; PR_SET_PDEATHSIG covers a SIGKILL of the parent.
- `rundir`   — the kernels' connection files (their HMAC keys) and IPC sockets in a private 0700 folder per run,
               removed at exit; a killed run's is swept at the next start.
- `paths`    — also refuses a reports directory holding symbolic links (a write could leave it).

Design calls:
- A failed run writes a failure page into the report slot, unless the slot holds a good report from an earlier
  run: then that report stays (with a "stale" banner), with its own notebook and log; the failed run's page,
  notebook and log go to `<template>.failed.{html,ipynb,log}`, and the index marks the slot "failed · previous
  kept" and links both. Without a kept report the failed run's notebook (with the error) is `<template>.ipynb`.
- `market: all` is a value only for templates whose declared default is `"all"` (e.g. the experiment readout,
  run once per week over all markets); templates without a `market` parameter also publish under `all/`.
- Warm isolation resets the kernel between runs (close figures, restore rcParams / warning filters / pandas
  options / cwd / environment, `%reset -f`, gc, execution count); tests check warm and fresh give identical
  outputs. Module-level state outside those (e.g. a DuckDB default connection a template registers tables in)
  is not reset: use `--isolation fresh` for templates that rely on such state.
"""

import sys

# nbformat validates notebooks with jsonschema, whose optional IRI format checker (the `rfc3987-syntax` package,
# pulled in by Jupyter's own dependencies) compiles 38 Lark grammars when imported: ~3 s on every `gne` command.
# Notebook schemas use no IRI formats, so this process goes without it (kernels are separate processes).
sys.modules.setdefault("rfc3987_syntax", None)


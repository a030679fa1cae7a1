"""The analyst's loop: scaffold a template or a metric (`gne new`), render one report with a warm kernel while
editing (`gne preview --watch`).

- `edits`    — insert lines into a project file and keep the change only if the file still loads.
- `template` — `gne new template`: a thin template (or a copy of one), its py:percent pair, its plan entry and
               its nbval reference parameters.
- `metric`   — `gne new metric`: a catalog entry the catalog accepts, and the pandas reference stub its value test
               calls.
- `preview`  — `gne preview`: validate, execute with a warm kernel and render one report through the reporting
               worker (`gnelib.reporting.worker`); re-render when the template or gnelib changes.
- `cli`      — the `gne new` and `gne preview` commands.
"""

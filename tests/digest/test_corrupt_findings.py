"""A corrupt `reports/<week>/findings.json` is a state file like runs.json: moved aside with a warning, never a
traceback, and written again by the next scan of the week."""

import json

import pandas as pd

from gnelib.reporting.flagged import FINDINGS_NAME, load_week, save_week


def test_a_corrupt_findings_file_is_set_aside_and_reads_as_missing(tmp_path, capsys):
    week = "2026-W46"
    saved = save_week(tmp_path, week, pd.DataFrame(), pd.DataFrame(), "stamp")
    assert load_week(tmp_path, week) is not None
    truncated = saved.read_text()[:40]  # as a full disk once left it
    saved.write_text(truncated)
    assert load_week(tmp_path, week) is None
    assert not saved.exists()
    asides = list((tmp_path / week).glob(f"{FINDINGS_NAME}.corrupt-*"))
    assert len(asides) == 1 and asides[0].read_text() == truncated  # kept for a post-mortem
    assert f"{week}/{FINDINGS_NAME} was corrupt" in capsys.readouterr().err
    saved.write_text(json.dumps({"findings": "not a table"}))  # valid JSON, wrong shape
    assert load_week(tmp_path, week) is None and not saved.exists()

"""Side-by-side comparison of a few runs: one row per field, one column per run (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import pandas as pd

from tracklib.read.query import metric_column, metric_names

ENVIRONMENT_FIELDS = ("host", "python", "platform", "git_branch", "git_commit", "git_dirty")


def comparison(runs: pd.DataFrame, environments: Mapping[str, Mapping[str, Any]]) -> pd.DataFrame:
    """Rows ``section, field`` → one text column per run (named ``name · id``) and ``differs``.

    ``runs`` holds the chosen rows of the runs table; ``environments`` maps run id to its
    captured environment. The git diff is compared by content hash, not shown in full; dataset
    fingerprints (``datasets.<name>``) by their first 16 hex digits.
    """
    runs = runs.drop_duplicates("run_id")
    columns = _column_labels(runs["name"].tolist(), runs["run_id"].tolist())
    rows: list[tuple[str, str, list[str]]] = [("run", "status", _texts(runs["status"]))]
    rows.append(("run", "duration (s)", [f"{v:.1f}" for v in runs["duration_s"]]))
    rows += [
        ("param", c.removeprefix("params."), _texts(runs[c])) for c in runs.columns if c.startswith("params.")
    ]
    rows += [
        ("dataset", c.removeprefix("datasets."), [_short_fingerprint(v) for v in runs[c].tolist()])
        for c in runs.columns
        if c.startswith("datasets.")
    ]
    rows += [("metric", key, _texts(runs[metric_column(key)])) for key in metric_names(runs)]
    envs = [environments.get(run_id, {}) for run_id in runs["run_id"]]
    rows += [("environment", f, [_text(env.get(f)) for env in envs]) for f in ENVIRONMENT_FIELDS]
    rows.append(("environment", "git diff", [_diff_digest(env.get("git_diff")) for env in envs]))
    table = pd.DataFrame([values for _, _, values in rows], columns=columns)
    table.insert(0, "field", [field for _, field, _ in rows])
    table.insert(0, "section", [section for section, _, _ in rows])
    table["differs"] = table[columns].nunique(axis=1) > 1
    return table


def _column_labels(names: list[Any], run_ids: list[str]) -> list[str]:
    """``name · <last 6 of the id>``, or with the whole id where that label repeats (run ids
    may be chosen by users: ``exp-000001`` and ``abc-000001`` end alike). Unique, since run
    ids are: a repeated column broke the page's highlighting for the whole comparison."""
    short = [f"{_text(name)} · {run_id[-6:]}" for name, run_id in zip(names, run_ids, strict=True)]
    repeated = {label for label in short if short.count(label) > 1}
    return [
        f"{_text(name)} · {run_id}" if label in repeated else label
        for label, name, run_id in zip(short, names, run_ids, strict=True)
    ]


def _text(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        return "—"
    if isinstance(value, float):
        return f"{value:.6g}"
    return str(value)


def _texts(series: pd.Series) -> list[str]:
    return [_text(v) for v in series.tolist()]


def _short_fingerprint(value: Any) -> str:
    """A dataset fingerprint cut to 16 hex digits: enough to tell versions apart, narrow
    enough for a column per run (the Run page and ``datasets.<name>`` have it whole)."""
    text = _text(value)
    return text[: len("sha256:") + 16] + "…" if text.startswith("sha256:") else text


def _diff_digest(diff: str | None) -> str:
    """``none`` for a clean tree, else a short hash: equal hashes mean identical changes."""
    return "none" if not diff else "sha256:" + hashlib.sha256(diff.encode()).hexdigest()[:10]

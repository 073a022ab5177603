"""The Runs page's table and the Leaderboard's ranking, as pure functions over frames
(tracklib.analysis.table and .ranking): what a user sees sorted, paged, filtered and picked."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs

from tracklib.analysis import ranking, table
from tracklib.analysis.filters import FilterError


def runs_frame(n: int = 6) -> pd.DataFrame:
    start = pd.Timestamp("2024-01-01", tz="UTC")
    return pd.DataFrame(
        {
            "run_id": [f"r{i}" for i in range(n)],
            "name": [f"run-{i}" for i in range(n)],
            "status": (["finished", "failed", "running"] * n)[:n],
            "start_time": [start + pd.Timedelta(days=i) for i in range(n)],
            "duration_s": [float(10 * i) for i in range(n)],
            "tags": ([["baseline"], [], ["big", "baseline"]] * n)[:n],
            "group": (["adam", "sgd"] * n)[:n],
            "params.lr": ([0.1, None, 0.01] * n)[:n],
            "params.optimizer": (["adam", "sgd"] * n)[:n],
            "metrics.val/acc": [0.5 + 0.05 * i for i in range(n)],
        }
    )


def summary_frame(runs: pd.DataFrame, metric: str = "val/acc") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "run_id": runs["run_id"],
            "key": metric,
            "count": 10,
            "last_step": 9,
            "min_step": 0,
            "max_step": list(range(len(runs))),
        }
    )


# --- what the table offers ---------------------------------------------------------------


def test_the_table_offers_every_tag_and_each_param_and_metric_column():
    runs = runs_frame()
    assert table.tag_options(runs) == ["baseline", "big"]
    assert table.choosable_columns(runs) == ["params.lr", "params.optimizer", "metrics.val/acc"]
    assert table.sortable_columns(runs)[:4] == ["start_time", "name", "status", "duration_s"]
    assert table.default_columns(runs) == ["metrics.val/acc", "params.lr", "params.optimizer"]


def test_the_headline_metric_leads_then_key_metrics_and_every_metric_stays_choosable():
    names = ["a/x", "lr", "test/acc", "throughput", "train/loss", "val/acc", "val/loss", "z"]
    runs = pd.DataFrame({f"metrics.{n}": [1.0, 2.0] for n in names} | {"params.lr": [0.1, 0.2]})
    default = table.default_columns(runs, headline="val/acc")
    assert default[:3] == ["metrics.val/acc", "metrics.val/loss", "metrics.test/acc"]
    assert len([c for c in default if c.startswith("metrics.")]) == 1 + table.KEY_METRICS
    assert set(table.choosable_columns(runs)) >= {f"metrics.{n}" for n in names}
    shown = table.shown_columns(["params.lr", "metrics.val/acc", "metrics.z"])
    assert shown[:6] == ["name", "status", "start_time", "duration_s", "metrics.val/acc", "metrics.z"]


# --- filters -----------------------------------------------------------------------------


def test_no_filter_shows_every_run():
    runs = runs_frame()
    assert table.filter_runs(runs).equals(runs)


def test_status_and_tags_match_any_of_the_chosen_and_since_is_inclusive():
    runs = runs_frame()
    assert table.filter_runs(runs, status=["failed", "running"])["run_id"].tolist() == [
        "r1",
        "r2",
        "r4",
        "r5",
    ]
    assert table.filter_runs(runs, tags=["big"])["run_id"].tolist() == ["r2", "r5"]
    assert table.filter_runs(runs, tags=["big", "baseline"])["run_id"].tolist() == ["r0", "r2", "r3", "r5"]
    assert table.filter_runs(runs, since=dt.date(2024, 1, 5))["run_id"].tolist() == ["r4", "r5"]
    shown = table.filter_runs(runs, status=["finished"], expression="params.lr < 0.05")
    assert shown["run_id"].tolist() == []
    assert table.filter_runs(runs, expression='optimizer = "sgd"')["run_id"].tolist() == ["r1", "r3", "r5"]


def test_a_bad_expression_raises_a_filter_error_with_its_position():
    with pytest.raises(FilterError) as caught:
        table.filter_runs(runs_frame(), expression="params.lr < ")
    assert caught.value.position is not None


# --- sorting -----------------------------------------------------------------------------

_values = hs.lists(hs.one_of(hs.none(), hs.just(math.nan), hs.integers(-3, 3).map(float)), max_size=40)


def _missing(value: object) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


@settings(max_examples=50, deadline=None)
@given(values=_values, ascending=hs.booleans())
def test_sorting_any_column_puts_missing_values_last_and_keeps_ties_in_order(values, ascending):
    frame = pd.DataFrame(
        {"run_id": [f"r{i}" for i in range(len(values))], "v": pd.Series(values, dtype=float)}
    )
    ordered = table.sort_runs(frame, "v", ascending)
    got = ordered["v"].tolist()
    present = [v for v in got if not _missing(v)]
    assert got[: len(present)] == present and all(_missing(v) for v in got[len(present) :])
    assert present == sorted(present, reverse=not ascending)
    position = {run_id: i for i, run_id in enumerate(frame["run_id"])}
    for (a, va), (b, vb) in zip(
        ordered[["run_id", "v"]].itertuples(index=False),
        ordered[["run_id", "v"]].iloc[1:].itertuples(index=False),
    ):
        if va == vb or (_missing(va) and _missing(vb)):
            assert position[a] < position[b]  # ties (and missing values) keep the table's order


@pytest.mark.parametrize("ascending", [True, False])
def test_a_mixed_type_param_sorts_by_its_text_with_missing_last(ascending):
    frame = pd.DataFrame(
        {"run_id": ["a", "b", "c", "d"], "p": pd.Series([10, [1, 2], None, "x"], dtype=object)}
    )
    ordered = table.sort_runs(frame, "p", ascending)["run_id"].tolist()
    assert ordered[-1] == "c"
    assert (
        sorted(ordered[:-1], key=lambda r: str(frame.set_index("run_id").loc[r, "p"]), reverse=not ascending)
        == (ordered[:-1])
    )


def test_names_and_times_sort_both_ways():
    runs = runs_frame()
    assert table.sort_runs(runs, "start_time", False)["run_id"].tolist() == [
        "r5",
        "r4",
        "r3",
        "r2",
        "r1",
        "r0",
    ]
    assert table.sort_runs(runs, "name", True)["run_id"].tolist() == [f"r{i}" for i in range(6)]


# --- pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "rows,pages", [(0, 1), (1, 1), (table.PAGE_ROWS, 1), (table.PAGE_ROWS + 1, 2), (10 * table.PAGE_ROWS, 10)]
)
def test_page_count(rows, pages):
    assert table.page_count(rows) == pages


@settings(max_examples=50, deadline=None)
@given(rows=hs.integers(0, 60), per_page=hs.integers(1, 25), number=hs.integers(-5, 10))
def test_the_pages_cover_every_row_once_and_a_page_number_stays_in_bounds(rows, per_page, number):
    frame = pd.DataFrame({"run_id": [f"r{i}" for i in range(rows)]})
    pages = table.page_count(rows, per_page)
    seen = []
    for n in range(1, pages + 1):
        page = table.page(frame, n, per_page)
        assert page.number == n and page.pages == pages and 0 < len(page.rows) <= per_page or rows == 0
        assert page.first == (n - 1) * per_page + 1 and page.last == page.first + len(page.rows) - 1
        seen += page.rows["run_id"].tolist()
    assert seen == frame["run_id"].tolist()
    clamped = table.page(frame, number, per_page)
    assert 1 <= clamped.number <= pages


# --- picks kept across pages and filters -------------------------------------------------


def test_the_picks_on_the_page_show_selected():
    assert table.rows_picked(["r3", "r4", "r5"], ["r0", "r5", "r3", "gone"]) == [0, 2]


def test_picks_hidden_by_a_filter_or_on_another_page_stay_picked():
    runs = runs_frame()
    picked = ["r0", "r5", "nope", "r2"]
    page_ids = ["r2", "r3"]  # r0 and r5 are filtered out or on another page; r2 was unselected
    assert table.keep_picks(runs["run_id"], picked, page_ids, [1]) == ["r0", "r5", "r3"]
    assert table.keep_picks(runs["run_id"], picked, page_ids, []) == ["r0", "r5"]


@settings(max_examples=50, deadline=None)
@given(data=hs.data())
def test_selecting_on_a_page_changes_only_that_pages_picks(data):
    runs = runs_frame(12)
    ids = runs["run_id"].tolist()
    picked = data.draw(hs.lists(hs.sampled_from([*ids, "unknown"]), unique=True, max_size=12), label="picked")
    page_ids = data.draw(hs.lists(hs.sampled_from(ids), unique=True, max_size=6), label="page")
    rows = data.draw(hs.lists(hs.integers(0, max(len(page_ids) - 1, 0)), unique=True), label="rows")
    rows = sorted(rows) if page_ids else []
    kept = table.keep_picks(runs["run_id"], picked, page_ids, rows)
    off_page = [r for r in picked if r in ids and r not in page_ids]
    assert kept == off_page + [page_ids[i] for i in rows]
    assert table.rows_picked(page_ids, kept) == rows  # the next rerun shows the same rows selected


# --- the leaderboard ---------------------------------------------------------------------


def test_the_board_ranks_by_the_metric_in_either_order_and_cuts_at_top():
    runs = runs_frame()
    summary = summary_frame(runs)
    board, competing = ranking.board(runs, summary, "val/acc", "last", "highest", top=3)
    assert board["name"].tolist() == ["run-5", "run-4", "run-3"] and competing == 6
    assert board["rank"].tolist() == [1, 2, 3]
    board, _ = ranking.board(runs, summary, "val/acc", "last", "lowest")
    assert board["name"].tolist() == [f"run-{i}" for i in range(6)]


def test_the_board_filters_then_keeps_the_best_per_group_or_param():
    runs = runs_frame()
    summary = summary_frame(runs)
    board, competing = ranking.board(
        runs, summary, "val/acc", "last", "highest", expression='status = "finished"'
    )
    assert board["name"].tolist() == ["run-3", "run-0"] and competing == 2
    board, _ = ranking.board(runs, summary, "val/acc", "last", "highest", group_by="group")
    assert board["name"].tolist() == ["run-5", "run-4"] and board["rank"].tolist() == [1, 2]
    board, _ = ranking.board(runs, summary, "val/acc", "last", "lowest", group_by="optimizer")
    assert board["name"].tolist() == ["run-0", "run-1"]
    with pytest.raises(FilterError):
        ranking.board(runs, summary, "val/acc", "last", "highest", expression="status =")


def test_runs_without_the_metric_rank_last_unranked():
    runs = runs_frame()
    runs.loc[runs["run_id"] == "r5", "metrics.val/acc"] = None
    board, _ = ranking.board(runs, summary_frame(runs), "val/acc", "last", "highest")
    assert board["name"].iloc[-1] == "run-5" and pd.isna(board["rank"].iloc[-1])


def test_ties_rank_the_earlier_step_first_then_keep_the_table_order():
    runs = runs_frame(4).assign(**{"metrics_max.val/acc": 0.9})
    summary = summary_frame(runs).assign(max_step=[5, 2, 2, 7])
    board, _ = ranking.board(runs, summary, "val/acc", "max", "highest")
    assert board["name"].tolist() == ["run-1", "run-2", "run-0", "run-3"]


def test_the_shown_columns_and_the_carried_runs():
    runs = runs_frame()
    board, _ = ranking.board(runs, summary_frame(runs), "val/acc", "last", "highest", top=2)
    shown = ranking.shown(board, "val/acc", "last", ["params.lr"])
    assert shown.columns.tolist() == ["rank", "name", "last val/acc", "step", "status", "group", "params.lr"]
    assert ranking.carried(runs, ["r3", "zz", "r1", "r3"]) == ["r3", "r1"]
    assert ranking.group_options(runs) == ["(none)", "group", "lr", "optimizer"]


def test_newest_runs_come_first():
    assert table.newest(runs_frame(), 2)["run_id"].tolist() == ["r5", "r4"]

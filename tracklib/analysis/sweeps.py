"""Sweep analysis for the Sweeps page: which hyperparameters drive a target metric (pure).

As in W&B's parameter-importance panel: the Spearman correlation gives the direction of a
numeric param's effect, a random forest's permutation importance gives how much each param
matters (categoricals and interactions included). A forest also "finds" importance in pure
noise (a random seed), so a few columns of random numbers are fitted beside the params and a
param whose importance does not clearly exceed theirs is marked indistinguishable from noise.
scikit-learn is imported inside ``importance`` only, so ``import tracklib`` stays light.

The page's scope (one sweep, or the runs carried from the Runs page) and its brush (a
rectangle over the parallel-coordinates axes, kept in the link) are decided here too.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

MISSING = "None"  # a param a run did not set: the one label on every chart and table
MISSING_POSITION = -0.1  # where a numeric parallel-coordinates axis puts its "None" runs
MIN_RUNS_FOR_MODEL = 5
CHART_RUNS = 1_000  # runs a Sweeps chart draws: the browser's cost grows with its rows
MODEL_RUNS = 2_000  # runs the importance forest fits on: a random sample of a bigger sweep
NOISE_COLUMNS = 5  # columns of random numbers fitted beside the params: the noise level
NOISE_MARGIN = 5.0  # a param matters when its importance exceeds the farthest-straying of them this much
ABOVE_NOISE = "above noise"
NOISE = "indistinguishable from noise"
TOO_FEW = "too few runs"
ALL_RUNS = "(all runs)"  # the group choice that keeps every run of the project


def group_options(runs: pd.DataFrame) -> list[str]:
    """What the sweep selector offers: every run, then each group by name."""
    groups = runs["group"].dropna().astype(str) if "group" in runs else pd.Series(dtype=object)
    return [ALL_RUNS, *sorted(set(groups) - {ALL_RUNS})]


def newest_group(runs: pd.DataFrame) -> str:
    """The sweep someone is looking at now: the group of the newest run that shares its group
    with another run (one run is no sweep), or every run when there is none."""
    if "group" not in runs or runs.empty:
        return ALL_RUNS
    grouped = runs[runs["group"].notna()]
    grouped = grouped[grouped["group"].astype(str).map(grouped["group"].astype(str).value_counts()) >= 2]
    if grouped.empty:
        return ALL_RUNS
    newest = str(grouped.sort_values(["start_time", "run_id"], na_position="first").iloc[-1]["group"])
    return ALL_RUNS if newest == ALL_RUNS else newest


def carried(runs: pd.DataFrame, picked: Iterable[str]) -> list[str]:
    """The picked run ids (from a link: untrusted) that this project has, each once, in order."""
    known = set(runs["run_id"])
    return [run_id for run_id in dict.fromkeys(picked) if run_id in known]


def scoped(runs: pd.DataFrame, group: str, carried_ids: Sequence[str] = ()) -> pd.DataFrame:
    """The runs the page studies: those carried from the Runs page when there are any, else one
    group's (every run for ``ALL_RUNS``)."""
    if carried_ids:
        return runs[runs["run_id"].isin(carried_ids)]
    if group == ALL_RUNS or "group" not in runs:
        return runs
    return runs[runs["group"].astype(object).astype(str).eq(group) & runs["group"].notna()]


@dataclass(frozen=True)
class Brush:
    """A rectangle over the parallel-coordinates chart: the axes it spans (by index, x) and the
    range of positions on them (y, in the axes' common 0…1 scale)."""

    axes: tuple[float, float]
    positions: tuple[float, float]

    @classmethod
    def from_selection(cls, selection: Mapping[str, Sequence[float]] | None) -> Brush | None:
        """The brush of a chart selection event (``{"axis_index": [..], "position": [..]}``)."""
        if not selection or "axis_index" not in selection or "position" not in selection:
            return None
        return cls.of(selection["axis_index"], selection["position"])

    @classmethod
    def of(cls, axes: Sequence[object], positions: Sequence[object]) -> Brush | None:
        """Two finite numbers on each side, put in order; None for anything else."""
        try:
            a, p = [float(v) for v in axes], [float(v) for v in positions]
        except (TypeError, ValueError):
            return None
        if len(a) != 2 or len(p) != 2 or not all(math.isfinite(v) for v in (*a, *p)):
            return None
        return cls((min(a), max(a)), (min(p), max(p)))

    @classmethod
    def from_link(cls, axes: str | None, positions: str | None) -> Brush | None:
        """The brush a link carries as two ``"a,b"`` values (checked by the page's URL rules)."""
        if not axes or not positions:
            return None
        return cls.of(axes.split(",")[:3], positions.split(",")[:3])

    def to_link(self) -> tuple[str, str]:
        """The two ``"a,b"`` values a link writes, short and in order."""
        return tuple(",".join(f"{v:.4g}" for v in span) for span in (self.axes, self.positions))

    def covered(self, axes: Sequence[str]) -> list[str]:
        return [axis for i, axis in enumerate(axes) if self.axes[0] <= i <= self.axes[1]]


def sweep_frame(runs: pd.DataFrame, params: list[str], target: str) -> pd.DataFrame:
    """``run_id, name, <params>, target`` for runs with a finite target (NaN/inf would skew every statistic)."""
    t = _floats(runs[target])
    keep = np.isfinite(t)
    out = runs.loc[keep, ["run_id", "name", *params]].reset_index(drop=True)
    out["target"] = t[keep]
    return out


def chart_runs(
    frame: pd.DataFrame, higher_is_better: bool, limit: int = CHART_RUNS, seed: int = 0
) -> pd.DataFrame:
    """At most ``limit`` runs to draw: the best tenth by target, the rest at random (the same
    ones on every rerun), so the best runs are always drawn and the cloud keeps its shape."""
    if len(frame) <= limit:
        return frame
    t = _floats(frame["target"])
    best = np.argsort(-t if higher_is_better else t, kind="stable")[: limit // 10]
    rest = np.setdiff1d(np.arange(len(frame)), best)
    picked = np.random.default_rng(seed).choice(rest, limit - len(best), replace=False)
    return frame.iloc[np.sort(np.r_[best, picked])].reset_index(drop=True)


def is_log_scale(values: pd.Series) -> bool:
    """Positive numbers spanning more than two decades (learning rates): only a log axis spreads them out."""
    x = _numeric(values)
    if x is None:
        return False
    x = x[~np.isnan(x)]
    return bool(len(x) and x.min() > 0 and x.max() / x.min() > 100)


def parallel_coordinates(
    frame: pd.DataFrame, params: list[str], target_label: str
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Long ``run_id, name, axis, position, value, target`` rows (one per run and axis, params then
    the target) and ``axis, position, label`` ticks; positions are in [0, 1], and a param a run
    did not set sits at one "None" spot: last on a categorical axis, below a numeric one."""
    columns = [*params, "target"]
    axes = [p.removeprefix("params.") for p in params] + [target_label]
    positions, texts, ticks = [], [], []
    for column, axis in zip(columns, axes):
        position, axis_ticks = _axis(frame[column])
        positions.append(position)
        texts.append(_text(frame[column]))
        ticks += [(axis, float(p), label) for p, label in axis_ticks]
    k = len(axes)
    long = pd.DataFrame(
        {
            "run_id": np.tile(frame["run_id"].to_numpy(dtype=object), k),
            "name": np.tile(frame["name"].to_numpy(dtype=object), k),
            "axis": np.repeat(np.asarray(axes, dtype=object), len(frame)),
            "position": np.concatenate(positions).astype("float64"),
            "value": np.concatenate(texts),
            "target": np.tile(_floats(frame["target"]), k),
        }
    )
    return long, pd.DataFrame(ticks, columns=["axis", "position", "label"])


def importance(frame: pd.DataFrame, params: list[str], target: str = "target", seed: int = 0) -> pd.DataFrame:
    """``param, correlation, importance, kind, signal`` per param, most important first.

    Importance is the random forest's permutation importance (clipped at 0, summing to 1 over
    the params); NaN below 5 runs, too few to fit. ``NOISE_COLUMNS`` columns of random numbers
    are fitted with the params: ``signal`` says whether a param's importance exceeds
    ``NOISE_MARGIN`` times the noisiest of them, and ``attrs["noise_level"]`` is that bar as a
    share. The forest fits on at most ``MODEL_RUNS`` runs picked at random; correlations use all.
    """
    y = _floats(frame[target])
    keep = np.isfinite(y)
    frame, y = frame.loc[keep], y[keep]
    numeric = [_numeric(frame[p]) for p in params]
    correlation = [np.nan if x is None else _spearman(x, y) for x in numeric]
    if len(frame) >= MIN_RUNS_FOR_MODEL and params:
        fit = np.arange(len(frame))
        if len(fit) > MODEL_RUNS:  # 200 trees over 100,000 runs take minutes; a sample, seconds
            fit = np.sort(np.random.default_rng(seed).choice(fit, MODEL_RUNS, replace=False))
        noise = np.random.default_rng([seed, 1]).random((len(fit), NOISE_COLUMNS))
        features = np.column_stack([*(_feature(frame[p].iloc[fit]) for p in params), noise])
        drops = _forest_importance(features, y[fit], seed)
        mine = np.clip(drops[: len(params)], 0.0, None)
        bar = NOISE_MARGIN * np.abs(drops[len(params) :]).max()  # how far noise strays, either way
        total = mine.sum()
        weights = mine / total if total > 0 else mine
        noise_level = bar / total if total > 0 else np.nan
        signal = np.where(mine > bar, ABOVE_NOISE, NOISE)
    else:
        weights, noise_level = np.full(len(params), np.nan), np.nan
        signal = np.full(len(params), TOO_FEW)
    out = pd.DataFrame(
        {
            "param": pd.Series(params, dtype=object),
            "correlation": np.asarray(correlation, dtype="float64"),
            "importance": weights,
            "kind": ["categorical" if x is None else "numeric" for x in numeric],
            "signal": pd.Series(signal, dtype=object),
        }
    )
    out["_strength"] = out["correlation"].abs()
    ranked = out.sort_values(["importance", "_strength"], ascending=False, na_position="last")
    ranked = ranked.drop(columns="_strength").reset_index(drop=True)
    ranked.attrs["noise_level"] = float(noise_level)
    return ranked


def heatmap(frame: pd.DataFrame, x: str, y: str, target: str = "target", max_bins: int = 8) -> pd.DataFrame:
    """``x, y, mean, count, min, max, x_order, y_order`` per occupied cell of two params, for spotting
    interactions; many-valued numbers go into quantile bins (log-spaced labels for log-scale params)."""
    t = _floats(frame[target])
    keep = np.isfinite(t)
    x_codes, x_labels = _bins(frame.loc[keep, x], max_bins)
    y_codes, y_labels = _bins(frame.loc[keep, y], max_bins)
    cells = (
        pd.DataFrame({"x_order": x_codes, "y_order": y_codes, "t": t[keep]})
        .groupby(["x_order", "y_order"], sort=True)
        .agg(mean=("t", "mean"), count=("t", "size"), min=("t", "min"), max=("t", "max"))
        .reset_index()
    )
    cells.insert(0, "y", np.asarray(y_labels, dtype=object)[cells["y_order"].to_numpy()])
    cells.insert(0, "x", np.asarray(x_labels, dtype=object)[cells["x_order"].to_numpy()])
    return cells[["x", "y", "mean", "count", "min", "max", "x_order", "y_order"]]


def best_run(frame: pd.DataFrame, target: str = "target", higher_is_better: bool = True) -> str | None:
    """The run_id with the best finite target (the first on ties); None when no run has one."""
    t = _floats(frame[target])
    finite = np.isfinite(t)
    if not finite.any():
        return None
    score = np.where(finite, t if higher_is_better else -t, -np.inf)
    return str(frame["run_id"].iloc[int(np.argmax(score))])


def _floats(values: pd.Series) -> np.ndarray:
    return values.to_numpy(dtype="float64", na_value=np.nan)


def _numeric(values: pd.Series) -> np.ndarray | None:
    """Floats (NaN for missing or ±inf) for a numeric column; None for bool, text and mixed columns."""
    if pd.api.types.is_bool_dtype(values) or not pd.api.types.is_numeric_dtype(values):
        return None
    x = _floats(values)
    return np.where(np.isfinite(x), x, np.nan)


def value_labels(values: pd.Series) -> np.ndarray:
    """A param's values as every chart of the page shows them: text, a missing one as "None"."""
    return _text(values)


def _text(values: pd.Series) -> np.ndarray:
    """Values as label text (floats to 6 significant digits so tooltips stay short), missing as "None"."""
    if pd.api.types.is_float_dtype(values):
        text = np.char.mod("%.6g", _floats(values)).astype(object)
    else:
        text = values.astype(object).astype(str).to_numpy(dtype=object)
    text[values.isna().to_numpy()] = MISSING
    return text


def _categories(values: pd.Series) -> tuple[np.ndarray, list[str]]:
    """Codes into the sorted category labels, missing ("None") last."""
    text = _text(values)
    missing = text == MISSING
    labels = sorted(set(text[~missing])) + ([MISSING] if missing.any() else [])
    return pd.Categorical(text, categories=labels).codes.astype(np.int64), labels


def _axis(values: pd.Series) -> tuple[np.ndarray, list[tuple[float, str]]]:
    """Positions in [0, 1] and (position, label) ticks for one parallel-coordinates axis."""
    x = _numeric(values)
    if x is None:
        codes, labels = _categories(values)
        spots = np.linspace(0.0, 1.0, len(labels)) if len(labels) > 1 else np.full(len(labels), 0.5)
        return spots[codes], list(zip(spots, labels))
    log = is_log_scale(values)
    s = np.log10(x) if log else x
    missing = np.isnan(s)
    none = [(MISSING_POSITION, MISSING)] if missing.any() else []
    valid = s[~missing]
    if not len(valid):
        return np.full(len(s), MISSING_POSITION), none
    lo, hi = valid.min(), valid.max()
    if hi == lo:
        position, ticks = np.full(len(s), 0.5), [(0.5, _number(lo, log))]
    else:
        position = (s - lo) / (hi - lo)
        ticks = [(p, _number(lo + p * (hi - lo), log)) for p in (0.0, 0.5, 1.0)]
    return np.where(missing, MISSING_POSITION, position), ticks + none


def _number(scaled: float, log: bool) -> str:
    return f"{10**scaled if log else scaled:.3g}"


def _bins(values: pd.Series, max_bins: int) -> tuple[np.ndarray, list[str]]:
    """Ordered codes and labels for a heatmap axis: values as they are, or quantile bins of many numbers."""
    x = _numeric(values)
    if x is None:
        return _categories(values)
    valid = ~np.isnan(x)
    missing = [MISSING] if not valid.all() else []
    unique, first = np.unique(x[valid], return_index=True)
    if len(unique) <= max_bins:
        labels = list(_text(values)[valid][first])
        return np.where(valid, np.searchsorted(unique, x), len(unique)), labels + missing
    log = is_log_scale(values)
    codes, edges = pd.qcut(np.log10(x) if log else x, max_bins, labels=False, retbins=True, duplicates="drop")
    labels = [
        f"{'[' if i == 0 else '('}{_number(lo, log)}, {_number(hi, log)}]"
        for i, (lo, hi) in enumerate(zip(edges[:-1], edges[1:]))
    ]
    return np.where(valid, codes, len(labels)).astype(np.int64), labels + missing


def _spearman(x: np.ndarray, y: np.ndarray) -> float:
    """Rank correlation over the runs that have the param; NaN when either side is constant."""
    ok = ~np.isnan(x)
    rx, ry = pd.Series(x[ok]).rank().to_numpy(), pd.Series(y[ok]).rank().to_numpy()
    if ok.sum() < 2 or rx.std() == 0 or ry.std() == 0:
        return np.nan
    return float(np.corrcoef(rx, ry)[0, 1])


def _feature(values: pd.Series) -> np.ndarray:
    """One model column per param: numbers (missing → median) or ordinal category codes."""
    x = _numeric(values)
    if x is None:
        return _categories(values)[0].astype("float64")
    missing = np.isnan(x)
    return np.where(missing, np.median(x[~missing]) if not missing.all() else 0.0, x)


def _forest_importance(features: np.ndarray, y: np.ndarray, seed: int, repeats: int = 5) -> np.ndarray:
    """Mean drop in R² when one column is shuffled (near 0, maybe below, for noise), scored on
    runs the forest did not fit: two halves, each scored by a forest fitted on the other.

    Scored on the fitted runs, a forest memorises any many-valued column (a random seed) and
    its shuffle "hurts"; on unseen runs only a real effect does. Like sklearn's
    ``permutation_importance``, but with one ``predict`` per column over all repeats stacked:
    sklearn's many small predicts are dominated by per-call overhead.
    """
    from sklearn.ensemble import RandomForestRegressor

    spread = ((y - y.mean()) ** 2).sum()
    if spread == 0:  # a constant target: no param explains anything
        return np.zeros(features.shape[1])
    rng = np.random.default_rng(seed)
    halves = np.array_split(rng.permutation(len(y)), 2)
    worse = np.zeros(features.shape[1])
    for scored, fitted in ((halves[0], halves[1]), (halves[1], halves[0])):
        model = RandomForestRegressor(n_estimators=100, random_state=seed, n_jobs=1)
        model.fit(features[fitted], y[fitted])
        x, truth = features[scored], y[scored]
        base = ((model.predict(x) - truth) ** 2).sum()
        for j in range(features.shape[1]):
            shuffled = np.tile(x, (repeats, 1))
            shuffled[:, j] = rng.permuted(np.tile(x[:, j], (repeats, 1)), axis=1).ravel()
            errors = ((model.predict(shuffled).reshape(repeats, -1) - truth) ** 2).sum(axis=1)
            worse[j] += errors.mean() - base
    return worse / spread


def brushed_runs(long: pd.DataFrame, axes: list[str], brush: Brush | None) -> list[str] | None:
    """Runs whose line passes through the brushed rectangle on every axis it covers (None: no
    brush, or one between the axes)."""
    covered = brush.covered(axes) if brush else []
    if not covered:
        return None
    on_axes = long[long["axis"].isin(covered)]
    passing = on_axes["position"].between(*brush.positions).groupby(on_axes["run_id"], sort=False).all()
    return passing[passing].index.tolist()


def best_first(frame: pd.DataFrame, target: str = "target", higher_is_better: bool = True) -> pd.DataFrame:
    """The runs ordered best target first (runs without one last)."""
    return frame.sort_values(target, ascending=not higher_is_better)

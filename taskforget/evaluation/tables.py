"""Mean ± std, markdown/CSV tables and plots shared by the benchmarks.

A *record* is what ``taskforget.apis.write_results`` writes: ``dict(name, metrics, wall_time_s,
...)``; the benchmarks add their own keys (method, seed, ...) before grouping.
"""
import math
from collections import OrderedDict
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

import numpy as np

from taskforget.checkpoint import save_figure_atomic, write_csv_atomic, write_text_atomic
from taskforget.evaluation.metrics import h_mean  # noqa: F401  (re-exported for benchmarks)


def mean_std(values: Iterable[float]) -> Tuple[float, float, int]:
    """Mean, sample standard deviation (ddof=1; 0 for a single value) and count, NaNs ignored."""
    v = np.array([x for x in values if x is not None and not math.isnan(x)], dtype=float)
    if len(v) == 0:
        return math.nan, math.nan, 0
    return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v)


def format_mean_std(values: Iterable[float], digits: int = 2) -> str:
    """``'95.03 ± 0.12'`` over several values, ``'95.03'`` for one, ``'-'`` for none."""
    mean, std, n = mean_std(values)
    if n == 0:
        return "-"
    return f"{mean:.{digits}f}" + (f" ± {std:.{digits}f}" if n > 1 else "")


def group(records: Sequence[dict], key: Callable[[dict], str]) -> "OrderedDict[str, List[dict]]":
    """Records grouped by ``key(record)``, groups in first-seen order."""
    groups: "OrderedDict[str, List[dict]]" = OrderedDict()
    for r in records:
        groups.setdefault(key(r), []).append(r)
    return groups


def metric(record: dict, column: str) -> Optional[float]:
    """A metric of a record; ``'time'`` is the wall time in seconds."""
    if column == "time":
        return record.get("wall_time_s")
    return record["metrics"].get(column)


def summary_rows(groups: Dict[str, List[dict]], columns: Sequence[str],
                 extra: Optional[Callable[[str, List[dict]], dict]] = None) -> List[dict]:
    """One row per group: ``row[c] = (mean, std, n)`` of each column, plus ``extra(name, recs)``."""
    rows = []
    for name, recs in groups.items():
        row = {"name": name, **(extra(name, recs) if extra else {})}
        for c in columns:
            row[c] = mean_std(metric(r, c) for r in recs)
        rows.append(row)
    return rows


def write_table(rows: Sequence[dict], columns: Sequence[str], stem: Path,
                headers: Optional[Dict[str, str]] = None, label_columns: Sequence[str] = (),
                digits: int = 2, note: str = "") -> Tuple[Path, Path]:
    """Write ``stem.md`` (mean ± std cells) and ``stem.csv`` (mean, std and n per column).

    Args:
        rows: from :func:`summary_rows` (numeric columns hold ``(mean, std, n)``).
        columns: numeric columns, in order.
        stem: output path without suffix.
        headers: display names of columns.
        label_columns: text columns shown before the numbers (e.g. 'uses D_r').
        digits: decimals in the markdown.
        note: markdown text written under the table.
    """
    headers = headers or {}
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    head = ["method", *[headers.get(c, c) for c in label_columns],
            *[headers.get(c, c) for c in columns]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for row in rows:
        cells = [row["name"], *[str(row.get(c, "")) for c in label_columns]]
        for c in columns:
            mean, std, n = row[c]
            cells.append("-" if n == 0 else f"{mean:.{digits}f}" + (
                f" ± {std:.{digits}f}" if n > 1 else ""))
        lines.append("| " + " | ".join(cells) + " |")
    md = stem.with_suffix(".md")
    write_text_atomic(md, "\n".join(lines) + "\n" + (f"\n{note}\n" if note else ""))
    path = write_csv_atomic(stem.with_suffix(".csv"), [
        ["method", *label_columns, *[f"{c}_{s}" for c in columns for s in ("mean", "std", "n")]],
        *[[row["name"], *[row.get(c, "") for c in label_columns],
           *[("" if math.isnan(v) else round(v, 4)) if isinstance(v, float) else v
             for c in columns for v in row[c]]] for row in rows]])
    return md, path


def _plt():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def boxplots(panels: Dict[str, Dict[str, List[float]]], path: Path, ylabel: str = "%") -> Path:
    """Side-by-side boxplots: ``panels[title][method] = values over runs``."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels.items()):
        names = list(series)
        ax.boxplot([series[n] for n in names])
        ax.set_xticks(range(1, len(names) + 1), names, rotation=60, ha="right", fontsize=8)
        ax.set_title(title)
        ax.set_ylabel(ylabel)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)
    return Path(path)


def lineplots(x: Sequence, panels: Dict[str, Dict[str, List[float]]], path: Path,
              xlabel: str, ylabel: str = "%") -> Path:
    """One panel per title with one line per method: ``panels[title][method][i]`` at ``x[i]``
    (NaN = missing)."""
    x = list(x)
    return curves({title: {name: (x, ys) for name, ys in series.items()}
                   for title, series in panels.items()}, path, xlabel, ylabel, xticks=x)


def curves(panels: Dict[str, Dict[str, Tuple[Sequence[float], Sequence[float]]]], path: Path,
           xlabel: str, ylabel: str = "%", logx: bool = False,
           references: Optional[Dict[str, Dict[str, float]]] = None,
           xticks: Optional[Sequence] = None) -> Path:
    """One panel per title with one line per method, each on its own x values:
    ``panels[title][method] = (xs, ys)`` (NaN = missing); ``references[title][name]``: a
    horizontal dashed line (e.g. the retrain model's value); ``xticks``: ticks at these x."""
    plt = _plt()
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5), squeeze=False)
    for ax, (title, series) in zip(axes[0], panels.items()):
        for name, (xs, ys) in series.items():
            ax.plot(list(xs), list(ys), marker="o", label=name)
        for name, y in (references or {}).get(title, {}).items():
            ax.axhline(y, linestyle="--", color="gray", label=name)
        if logx:
            ax.set_xscale("log")
        if xticks is not None:
            ax.set_xticks(list(xticks))
        ax.set_xlabel(xlabel)
        ax.set_ylabel(ylabel)
        ax.set_title(title)
    axes[0][-1].legend(fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5))
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=120)
    plt.close(fig)
    return Path(path)

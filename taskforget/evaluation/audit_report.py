"""The audit's report: ``audit.md``, ``audit.html`` (self-contained, figures embedded, unless
asked to link them), ``audit.json`` (the record) and the PNG figures, from
:func:`taskforget.evaluation.audit.audit`'s record."""
import base64
import html
import json
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from taskforget.checkpoint import save_figure_atomic, write_json_atomic, write_text_atomic
from taskforget.datasets.data_root import project_relative
from taskforget.evaluation.tables import _plt

ORDER = ("model", "retrain", "original")
COLOURS = {"model": "tab:red", "retrain": "tab:blue", "original": "tab:gray"}
STYLES = {"model": "-", "retrain": "--", "original": ":"}  # overlapping curves stay visible


def _fmt(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and np.isnan(value)):
        return "-"
    return f"{value:.{digits}f}" if isinstance(value, (float, int, np.floating)) else str(value)


class _Doc:
    """Blocks rendered both as markdown and as HTML."""

    def __init__(self):
        self.blocks: List[Tuple[str, object]] = []

    def heading(self, text: str, level: int = 2):
        self.blocks.append(("h", (level, text)))

    def text(self, text: str):
        self.blocks.append(("p", text))

    def table(self, header: Sequence[str], rows: Sequence[Sequence[str]]):
        self.blocks.append(("table", (list(header), [list(r) for r in rows])))

    def image(self, path: Path, alt: str):
        self.blocks.append(("img", (Path(path), alt)))

    def markdown(self) -> str:
        out = []
        for kind, value in self.blocks:
            if kind == "h":
                out.append("#" * value[0] + " " + value[1])
            elif kind == "p":
                out.append(value)
            elif kind == "table":
                header, rows = value
                out.append("\n".join(["| " + " | ".join(header) + " |",
                                      "|" + "---|" * len(header)]
                                     + ["| " + " | ".join(r) + " |" for r in rows]))
            else:
                out.append(f"![{value[1]}]({value[0].name})")
        return "\n\n".join(out) + "\n"

    def html(self, title: str, embed: bool = True) -> str:
        out = [f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}"
               "</title><style>body{font-family:sans-serif;max-width:1100px;margin:auto}"
               "table{border-collapse:collapse;margin:8px 0}td,th{border:1px solid #bbb;"
               "padding:3px 8px;text-align:right}td:first-child{text-align:left}"
               "img{max-width:100%}</style></head><body>"]
        for kind, value in self.blocks:
            if kind == "h":
                out.append(f"<h{value[0]}>{html.escape(value[1])}</h{value[0]}>")
            elif kind == "p":
                out.append(f"<p>{html.escape(value).replace('**', '')}</p>")
            elif kind == "table":
                header, rows = value
                cells = ["<tr>" + "".join(f"<td>{html.escape(c.replace('**', ''))}</td>"
                                          for c in r) + "</tr>" for r in rows]
                out.append("<table><tr>" + "".join(f"<th>{html.escape(h)}</th>" for h in header)
                           + "</tr>" + "".join(cells) + "</table>")
            else:
                src = (f"data:image/png;base64,{base64.b64encode(value[0].read_bytes()).decode()}"
                       if embed else html.escape(value[0].name))
                out.append(f"<img alt='{html.escape(value[1])}' src='{src}'>")
        return "\n".join(out) + "</body></html>\n"


def _names(record: dict) -> List[str]:
    return [n for n in ORDER if n in record["models"]]


def _save(fig, path: Path) -> Path:
    """Lay out, write (PNG, 110 dpi) and close ``fig``."""
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    _plt().close(fig)
    return path


def _class_figure(record: dict, labels: Dict[str, str], path: Path, key: str, ylabel: str,
                  title: str) -> Path:
    """Grouped bars of one per-class list (``record['models'][name][key]``) for each model."""
    plt = _plt()
    names, classes = _names(record), record["class_names"]
    x = np.arange(len(classes))
    width = 0.8 / len(names)
    fig, ax = plt.subplots(figsize=(max(6, 0.6 * len(classes) + 2), 4))
    for i, name in enumerate(names):
        ax.bar(x + (i - (len(names) - 1) / 2) * width,
               [np.nan if v is None else v for v in record["models"][name][key]], width,
               label=labels[name], color=COLOURS[name])
    ax.set_xticks(x, classes, rotation=45, ha="right", fontsize=8)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0))  # off the bars
    return _save(fig, path)


def largest_drops(record: dict, model: str, count: int = 3) -> str:
    """'horse -9.4, dog -1.9, ...': the remaining classes where ``model``'s test accuracy is
    furthest below the retrain model's."""
    ours, retrain = (record["models"][n]["per_class"] for n in (model, "retrain"))
    drops = sorted((ours[k] - retrain[k], name) for k, name in enumerate(record["class_names"])
                   if k not in record["forget_ids"] and ours[k] is not None
                   and retrain[k] is not None)
    return ", ".join(f"{name} {d:+.1f}" for d, name in drops[:count] if d < 0) or "none"


def _relearn_figure(record: dict, labels: Dict[str, str], path: Path) -> Path:
    plt = _plt()
    ks = record["relearn_k"]
    fig, axes = plt.subplots(1, len(ks), figsize=(5 * len(ks), 3.8), squeeze=False)
    for ax, k in zip(axes[0], ks):
        for name in _names(record):
            ax.plot(record["relearn_steps"], record["models"][name]["relearn"][str(k)],
                    marker="o", label=labels[name], color=COLOURS[name],
                    linestyle=STYLES[name])
        ax.set_title(f"relearn attack: {k} forget images")
        ax.set_xlabel("SGD steps")
        ax.set_ylabel("Acc_ft (%)")
        ax.set_ylim(-2, 102)
    axes[0][-1].legend(fontsize=8)
    return _save(fig, path)


def _roc_figure(record: dict, labels: Dict[str, str], path: Path) -> Path:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(4.5, 4.2))
    for name in _names(record):
        roc = record["roc"][name]
        auc = record["models"][name]["mia"]["forget_AUC"]
        ax.plot(roc["fpr"], roc["tpr"], label=f"{labels[name]} (AUC {auc:.3f})",
                color=COLOURS[name], linestyle=STYLES[name])
    ax.plot([0, 1], [0, 1], ":", color="k", lw=0.8)
    ax.set_xlabel("FPR (forget-class test images)")
    ax.set_ylabel("TPR (forget-class training images)")
    ax.set_title("Loss attack: D_f vs D_ft")
    ax.legend(fontsize=7, loc="lower right")
    return _save(fig, path)


def _tsne_figure(record: dict, labels: Dict[str, str], path: Path) -> Path:
    plt = _plt()
    shown = [n for n in ("original", "retrain", "model") if n in record["tsne"]]
    fig, axes = plt.subplots(1, len(shown), figsize=(4.3 * len(shown), 4.3), squeeze=False)
    cmap = "tab10" if len(record["class_names"]) <= 10 else "tab20"
    for ax, name in zip(axes[0], shown):
        xy, y = np.array(record["tsne"][name]["xy"]), np.array(record["tsne"][name]["labels"])
        forget = np.isin(y, record["forget_ids"])
        ax.scatter(xy[~forget, 0], xy[~forget, 1], c=y[~forget], cmap=cmap, s=6, vmin=0,
                   vmax=len(record["class_names"]) - 1)
        ax.scatter(xy[forget, 0], xy[forget, 1], c="k", marker="^", s=16, label="forgotten")
        ax.set_title(labels[name])
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].legend(fontsize=7)
    fig.suptitle("t-SNE of penultimate features (colour = true class, black = forgotten)")
    return _save(fig, path)


def write_report(record: dict, out_dir, model_name: str = "model",
                 title: Optional[str] = None, overlays: Optional[Path] = None,
                 embed_figures: bool = True) -> Dict[str, Path]:
    """Write the audit's report into ``out_dir``.

    Args:
        record: :func:`~taskforget.evaluation.audit.audit`'s record.
        out_dir: folder (created).
        model_name: how the audited model is named in tables and figures.
        title: the report's title.
        overlays: segmentation: a PNG of the models' predictions on images with and without
            the forgotten class (:func:`taskforget.commands.seg_overlay.make_overlay`),
            shown under "where the forgotten class went".
        embed_figures: embed the PNGs in ``audit.html`` (a page that can be sent alone);
            False links them by file name (reports committed beside their PNGs, half the
            bytes).

    Returns:
        Paths by kind: ``md``, ``html``, ``json`` and one per figure.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    labels = {"model": model_name, "retrain": "retrain", "original": "original"}
    names, rows = _names(record), record["models"]
    title = title or f"Forgetting audit: {model_name}"
    forgotten = ", ".join(record["class_names"][i] for i in record["forget_ids"])
    doc, paths = _Doc(), {}
    doc.heading(title, 1)
    doc.text(f"Forgotten class(es): {forgotten}. Task: {record['task']}.")
    doc.text(f"**Verdict: {model_name} {record['verdict']['text']}.**")
    if record["verdict"]["criteria"]:
        doc.text("A criterion holds when the model's number is within its tolerance of the "
                 "retrain model's on the same data; 'indistinguishable' means every one holds "
                 "(on this data and these attacks: evidence, not a proof).")
        doc.table(["criterion", model_name, "retrain", "difference", "tolerance", "holds"],
                  [[c["criterion"], _fmt(c["model"], 3), _fmt(c["retrain"], 3),
                    f"{c['difference']:+.3f}", f"{c['tolerance']:g} {c['unit']}".strip(),
                    "yes" if c["within"] else "**no**"] for c in record["verdict"]["criteria"]])
    for note in record.get("notes", []):
        doc.text(f"Note: {note}.")
    if record["task"] == "segmentation":
        doc.heading("IoU (%)")
        cols = ["IoU_ft", "IoU_rt", "mIoU", "aAcc", "H-Mean"]
        doc.table(["model", *cols], [[labels[n], *[_fmt(rows[n]["metrics"].get(c))
                                                  for c in cols]] for n in names])
    else:
        doc.heading("Accuracy (%) and the confidence-SVC MIA")
        cols = ["Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean", "MIA", "MIA_efficacy"]
        doc.table(["model", "Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean",
                   "MIA % (DELETE conv., lower better)", "MIA_efficacy % (SalUn conv.)"],
                  [[labels[n], *[_fmt(rows[n]["metrics"].get(c)) for c in cols]]
                   for n in names])
        doc.text(f"MIA: {record['mia_convention']}. H-Mean is against the original model.")
        doc.heading("Membership inference: loss attack (score = log p_y)")
        doc.table(["model", "calib. AUC", "calib. TPR@1%FPR", "D_f member rate % @1%FPR",
                   "forget AUC (D_f vs D_ft)", "forget TPR@1%FPR"],
                  [[labels[n], *[_fmt(rows[n]["mia"][k], 3) for k in (
                      "calib_AUC", "calib_TPR@1%FPR")], _fmt(rows[n]["mia"]["member_rate"]),
                    *[_fmt(rows[n]["mia"][k], 3) for k in ("forget_AUC", "forget_TPR@1%FPR")]]
                   for n in names])
        doc.text("Calibration as DESIGN §4: members = remaining-class training images (a "
                 "seeded sample the size of the remaining test set), non-members = "
                 "remaining-class test images. Member rate: % of D_f above the threshold "
                 "that calls 1% of those non-members member. Forget AUC: D_f (forget-class "
                 "training images) vs D_ft (forget-class test images); 0.5 = D_f looks unseen.")
        paths["roc"] = _roc_figure(record, labels, out / "mia_roc.png")
        doc.image(paths["roc"], "ROC of the loss attack")
        doc.heading("Relearn attack (Acc_ft %, forget-class test images)")
        s = record["settings"]
        doc.table(["model", "k images", *[f"{t} steps" for t in record["relearn_steps"]]],
                  [[labels[n], str(k), *[_fmt(v) for v in rows[n]["relearn"][str(k)]]]
                   for n in names for k in record["relearn_k"]])
        if all(rows[n].get("relearn_remain_as_forget", {}).get(str(k))
               for n in names for k in record["relearn_k"]):
            doc.text("Remaining-class test images (as many, seeded) the attacked copy calls the "
                     "forgotten class (%): high values mean it relearnt a bias, not the class.")
            doc.table(["model", "k images", *[f"{t} steps" for t in record["relearn_steps"]]],
                      [[labels[n], str(k), *[_fmt(v) for v in
                                             rows[n]["relearn_remain_as_forget"][str(k)]]]
                       for n in names for k in record["relearn_k"]])
        doc.text(f"A copy of each model fine-tuned on the same k seeded forget training images: "
                 f"SGD lr {s['relearn_lr']:g}, momentum {s['relearn_momentum']:g}, batch "
                 f"min(k, {s['relearn_batch']}), cross-entropy, network in eval mode.")
        paths["relearn"] = _relearn_figure(record, labels, out / "relearn.png")
        doc.image(paths["relearn"], "relearn attack")
        if all("probe" in rows[n] for n in names):
            doc.heading("Feature-level recoverability (frozen penultimate features)")
            doc.table(["model", "linear probe: forget recall %", "remaining acc. %",
                       "forget-vs-rest AUC", "kNN probe: forget recall %", "remaining acc. %"],
                      [[labels[n], *[_fmt(rows[n]["probe"][k], 3 if "auc" in k else 2)
                                     for k in ("linear_recall", "linear_remain", "linear_auc",
                                               "knn_recall", "knn_remain")]] for n in names])
            doc.text(f"Test images (up to {s['probe_per_class']} per class, seeded), "
                     "standardized; "
                     f"multinomial logistic regression and {s['knn_neighbors']}-NN, "
                     "out-of-fold (stratified k-fold). High recall = the class is still "
                     "readable from the features.")
    doc.heading("Where the forgotten class went (%)")
    doc.table(["model", *record["class_names"]],
              [[labels[n], *[_fmt(v, 1) for v in rows[n]["where"]]] for n in names])
    unit = "pixels" if record["task"] == "segmentation" else "test images"
    paths["where"] = _class_figure(record, labels, out / "where.png", "where",
                                   f"% of the forgotten class's {unit}",
                                   "Where the forgotten class went (predicted class)")
    doc.image(paths["where"], "predicted classes of the forgotten class")
    if all("per_class" in rows[n] for n in names):
        doc.heading("Which classes paid: test accuracy per class (%)")
        doc.table(["model", *record["class_names"]],
                  [[labels[n], *[_fmt(v, 1) for v in rows[n]["per_class"]]] for n in names])
        if "retrain" in rows:
            doc.text(f"Largest drops of {model_name} below the retrain model on the remaining "
                     f"classes (points): {largest_drops(record, 'model')}.")
        paths["per_class"] = _class_figure(record, labels, out / "per_class.png", "per_class",
                                           "test accuracy (%)", "Test accuracy per class")
        doc.image(paths["per_class"], "test accuracy per class")
    if overlays is not None:
        doc.text("Predictions on evaluation images with the forgotten class and training "
                 "images without it (image, ground truth, then each model).")
        paths["overlays"] = Path(overlays)
        doc.image(paths["overlays"], "prediction overlays")
    if record.get("tsne"):
        doc.heading("t-SNE")
        paths["tsne"] = _tsne_figure(record, labels, out / "tsne.png")
        doc.image(paths["tsne"], "t-SNE of penultimate features")
    paths["md"] = write_text_atomic(out / "audit.md", doc.markdown())
    paths["html"] = write_text_atomic(out / "audit.html", doc.html(title, embed_figures))
    saved = dict(record)
    if record.get("checkpoints"):
        saved["checkpoints"] = {k: project_relative(v) for k, v in record["checkpoints"].items()}
    paths["json"] = write_json_atomic(out / "audit.json", json.loads(json.dumps(
        saved, default=lambda v: v.item() if hasattr(v, "item") else str(v))))
    return paths

"""Classification benchmark on the real CIFAR-10 (CPU protocol): the DELETE paper's tables and
figures for DELETE and every baseline, with mean ± std over seeds.

    # the original and retrain models first (tools/train.py; see docs/results/classification)
    python benchmarks/cls_cifar10.py                       # every section, resumable
    python benchmarks/cls_cifar10.py --sections table1 --seeds 0
    python benchmarks/cls_cifar10.py --quick               # tiny end-to-end check (minutes)

Every unlearning run writes ``<work root>/results/<run>.json`` and its weights ``<run>.pth``;
a run whose JSON exists is read back instead of re-run, so an interrupted benchmark resumes
where it stopped. Tables (markdown + CSV) and PNG figures go to ``--out``. Table 1's runs are
also audited (table1_audit.md, audit/<run>/; each audit cached in ``results/<run>_audit.json``).
"""
import argparse
import json
import math
import os
import sys
import time
from pathlib import Path
from typing import Optional, Tuple

import numpy as np
from mmengine.config import Config

sys.path.insert(0, str(Path(__file__).resolve().parent))

from taskforget.apis import (  # noqa: E402
    build_stage_config,
    checkpoint_path,
    device_name,
    forget_tag,
    hyperparameters,
    run_name,
    work_root,
)
from taskforget.checkpoint import (  # noqa: E402
    file_digest,
    load_weights,
    save_figure_atomic,
    write_json_atomic,
    write_text_atomic,
)
from taskforget.cli import apply_options, parse_cfg_options, run_or_load  # noqa: E402
from taskforget.commands.audit import audit_checkpoint, audit_datasets  # noqa: E402
from taskforget.datasets.data_root import project_relative  # noqa: E402
from taskforget.evaluation import tables  # noqa: E402
from taskforget.evaluation.audit import HEADLINE, Tolerances, combine, headline  # noqa: E402
from taskforget.evaluation.audit_report import write_report  # noqa: E402
from taskforget.evaluation.probe import extract_features  # noqa: E402
from taskforget.ledger import Ledger  # noqa: E402
from taskforget.registry import DATASETS, MODELS  # noqa: E402
from taskforget.request import compose_method, is_tuned  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
BASE = "configs/cls_cifar10_resnet20_cpu.py"
# (row name, method fragment configs/_base_/methods/<name>.py). "(D_r)" rows use remaining data.
METHODS = [
    ("DELETE", "delete"), ("Random Label", "random_label"),
    ("Negative Gradient", "negative_gradient"),
    ("Boundary Shrink", "boundary_shrink"), ("Boundary Expand", "boundary_expand"),
    ("Influence Unlearn", "influence"), ("Learn to Unlearn", "learn_to_unlearn"),
    ("Bad Teacher", "bad_teacher"), ("SalUn", "salun"), ("SCRUB (max steps only)", "scrub"),
    ("MaGA", "maga"),
    ("Influence Unlearn (D_r)", "influence_dr"), ("Bad Teacher (D_r)", "bad_teacher_dr"),
    ("SalUn (D_r)", "salun_dr"), ("SCRUB (D_r)", "scrub_dr"), ("UNSIR (D_r)", "unsir_dr"),
    ("MaGA (D_r)", "maga_dr"), ("Fine-tune (D_r)", "finetune"),
    ("Fisher Forgetting (D_r)", "fisher"), ("SSD (D_r)", "ssd"), ("Amnesiac (D_r)", "amnesiac"),
]
FORGET_ONLY = [m for m in METHODS if "(D_r)" not in m[0]]
# About 2x the cost of the other 20-epoch methods on the CPU protocol (two forward/backward
# passes per forget batch): Table 1 runs them with `--slow-seeds` seeds (the `runs` column).
# And every method that trains on D_r (45,000 images per epoch).
SLOW = {"learn_to_unlearn", "salun_dr"}
COLUMNS = ["Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean", "MIA", "time"]
HEADERS = {"Acc_f": "Acc_f ↓", "Acc_r": "Acc_r ↑", "Acc_ft": "Acc_ft ↓", "Acc_rt": "Acc_rt ↑",
           "H-Mean": "H-Mean ↑", "MIA": "MIA ↓ (DELETE conv.)", "time": "time (s)",
           "uses_dr": "uses D_r", "schedule": "schedule", "runs": "runs",
           "rank": "H-Mean rank (all / forget-only)"}
# Table 1's classes; the tuning's validation classes (benchmarks/tuning.py) are cat, automobile
REPORTED = ["airplane", "deer", "ship"]
SECTIONS = ("table1", "tsne", "table5", "table4", "table3")
# The DELETE paper's Table 1, CIFAR-10 (ResNet-18): (Acc_ft, Acc_rt, H-Mean) per row
PAPER_TABLE1 = {
    "Original model": (97.00, 95.31, None), "Retrain model": (0.0, 95.20, 96.09),
    "Random Label": (1.60, 82.18, 88.30), "Negative Gradient": (7.20, 75.52, 82.04),
    "Boundary Shrink": (4.50, 84.56, 88.35), "Boundary Expand": (15.00, 79.37, 80.66),
    "Influence Unlearn": (0.60, 93.21, 94.78), "Learn to Unlearn": (8.60, 90.02, 89.20),
    "Bad Teacher": (18.80, 87.13, 82.42), "Bad Teacher (D_r)": (0.30, 94.98, 95.83),
    "SalUn": (10.50, 70.18, 80.53), "SalUn (D_r)": (0.10, 93.91, 95.38),
    "Fisher Forgetting (D_r)": (68.30, 59.73, 38.77), "SCRUB (D_r)": (0.0, 94.94, 95.96),
    "Fine-tune (D_r)": (0.0, 93.83, 95.39), "DELETE": (0.0, 95.03, 96.00),
}
# Table 1's audit (taskforget/evaluation/audit.py) of every run, each model audited alone and
# cached beside its results (audit.combine puts it beside the retrain model). Bounded: 500
# training and 500 test images per class (seeded), one relearn attacker (k = 100 images),
# probes on 200 test images per class, no t-SNE (fig4_tsne.png has one). The relearn lr is
# chosen on the validation class with the original alone (benchmarks/relearn_lr.py,
# relearn_lr.md): at the audit's default 1e-2 every attacked copy, the retrain model's too,
# calls every image the forgotten class within 5 steps, and relearn Acc_ft reads 100 for all.
AUDIT_PER_CLASS = 500
AUDIT = dict(relearn_k=[100], relearn_steps=[0, 5, 10, 25], relearn_lr=1e-4,
             probe_per_class=200, tsne_per_class=None, seed=0)
AUDIT_COLUMNS = list(HEADLINE)
AUDIT_HEADERS = {"relearn_remain_as_forget": "relearn: remaining called forgotten (%)",
                 "linear_recall": "linear-probe recall ↓", "knn_recall": "kNN-probe recall ↓",
                 "forget_AUC": "loss-attack AUC (D_f vs D_ft)",
                 "verdict": "indistinguishable from retrain", "runs": "runs"}
CLASS_SETS = {1: ["airplane"], 2: ["airplane", "automobile"],
              5: ["airplane", "automobile", "bird", "cat", "deer"]}
QUICK = {  # tiny scale: a width-8 CNN, 100 train (60 forget) / 20 test images per class
    "network": dict(type="small_cnn", num_classes=10, width=8),
    "model.network": dict(type="small_cnn", num_classes=10, width=8),
    "train_dataloader.dataset.max_per_class": 100, "forget_dataloader.dataset.max_per_class": 60,
    "val_dataloader.dataset.max_per_class": 20, "test_dataloader.dataset.max_per_class": 20,
    "pretrain.train_cfg.max_epochs": 8,
    "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.05, begin=0, end=8,
                                      by_epoch=True, convert_to_iter_based=True)],
    "default_hooks.logger.interval": 1000,
}
QUICK_MODEL = dict(num_samples=32, max_samples=16, noise_size=16, noise_steps=3, steps=2,
                   estimate_batches=2)


# what a Bench reads from its args beyond the shared ones (work_dir, out, quick, methods), at
# this command line's defaults: benchmarks/tuning.py and cost_curve.py build one from theirs
BENCH_DEFAULTS = dict(config=BASE, cfg_options={}, max_forget_epochs=None,
                      audit_per_class=AUDIT_PER_CLASS)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="tiny end-to-end run (checks the code)")
    p.add_argument("--config", default=BASE, help=f"the protocol (default {BASE}; e.g. the "
                   "paper's ResNet-18 on a GPU: benchmarks/paper_protocol.sh)")
    p.add_argument("--reported", nargs="+", default=REPORTED,
                   help=f"Table 1's classes (default {' '.join(REPORTED)})")
    p.add_argument("--audit-per-class", type=int, default=AUDIT_PER_CLASS,
                   help=f"training and test images per class of each audit (default "
                        f"{AUDIT_PER_CLASS})")
    p.add_argument("--cfg-options", nargs="+", default=[], metavar="KEY=VALUE",
                   help="overrides of every run's config, after the benchmark's own (give "
                        "tools/train.py the same for the original and retrain models)")
    p.add_argument("--sections", nargs="+", choices=SECTIONS, default=list(SECTIONS),
                   help="what to make (default: all; the linear and kNN probes are Table 1's "
                        "audit columns)")
    p.add_argument("--seeds", nargs="+", type=int, help="Table 1 seeds (default 0 1 2)")
    p.add_argument("--methods", nargs="+", help="method names to run (configs/_base_/methods/; "
                                                "default: all)")
    p.add_argument("--slow-seeds", type=int, default=1,
                   help=f"Table 1 seeds for the D_r methods and {sorted(SLOW)} (default 1)")
    p.add_argument("--max-forget-epochs", type=int,
                   help="cap every method's unlearning epochs (noted in every table)")
    p.add_argument("--work-dir", help="work root (default work_dirs/<the config's experiment>)")
    p.add_argument("--out", help="tables and figures (default docs/results/classification)")
    args = p.parse_args(argv)
    if args.quick:
        args.seeds = args.seeds or [0, 1]
        args.work_dir = args.work_dir or "work_dirs/cls_cifar10_quick"
        args.out = args.out or "work_dirs/cls_cifar10_quick/report"
    args.seeds = args.seeds or [0, 1, 2]
    args.cfg_options = parse_cfg_options(args.cfg_options)
    args.work_dir = str(ROOT / (args.work_dir or "work_dirs/" + Config.fromfile(
        str(ROOT / args.config)).experiment))
    args.out = ROOT / (args.out or "docs/results/classification")
    return args


class Bench:
    """Runs (or reads back) every run of the benchmark."""

    def __init__(self, args):
        self.args = args
        self.methods = [m for m in METHODS if args.methods is None
                        or m[1] in args.methods]
        self._audit_data = {}
        args.out.mkdir(parents=True, exist_ok=True)
        # finished runs, committed with the tables: a new machine continues from them
        self.ledger = Ledger(args.out / "runs.jsonl")

    def config(self, method="delete", seed=0, forget=("airplane",), **options) -> Config:
        cfg = compose_method(Config.fromfile(str(ROOT / self.args.config)), method)
        overrides = {"work_root": self.args.work_dir, "randomness.seed": seed,
                     "forget_classes": list(forget),
                     # evaluate once, after unlearning (runner.test), not after every epoch
                     "forget.train_cfg.val_interval": 10_000}
        if self.args.quick:
            overrides.update(QUICK)
            overrides.update({f"model.{k}": v for k, v in QUICK_MODEL.items()
                              if k in cfg.model})
            overrides["forget.train_cfg.max_epochs"] = min(cfg.forget.train_cfg.max_epochs, 1)
        if self.args.max_forget_epochs is not None:
            overrides["forget.train_cfg.max_epochs"] = min(cfg.forget.train_cfg.max_epochs,
                                                           self.args.max_forget_epochs)
        overrides.update(options)
        cfg.merge_from_dict(overrides)
        return apply_options(cfg, self.args.cfg_options)

    def lookup(self, cfg: Config) -> Tuple[str, str, Optional[dict]]:
        """(run name, run hash, the run's record in the ledger or None)."""
        name = run_name(cfg, "forget")
        run_hash = build_stage_config(cfg, "forget").run_hash
        return name, run_hash, self.ledger.get(name, run_hash)

    def unlearn(self, cfg: Config, weights: bool = False) -> dict:
        """Run the config's method (or read its result back: from the ledger, or with
        ``weights`` from this machine's cache of the run, its checkpoint included); the record
        gets the run name, its checkpoint's path and its schedule."""
        name, run_hash, recorded = self.lookup(cfg)
        path = work_root(cfg) / "results" / f"{name}.json"
        previous = json.loads(path.read_text()) if path.is_file() else {}
        if recorded is not None and (not weights or recorded.get("missing")):
            record = recorded  # finished on some machine (a divergence needs no weights)
        elif previous.get("missing") and previous.get("config_hash") == run_hash:
            record = previous  # a divergence recorded for exactly these settings
        else:
            try:
                record = run_or_load(cfg, "forget", name=name)
            except FloatingPointError as exc:  # NaN loss or NaN outputs: a result, not a crash
                # recorded like a finished run, so a resumed benchmark does not repeat it
                missing = f"{name} diverged ({str(exc).split(':')[0]})"
                print(f"[bench] {missing}", flush=True)
                record = dict(name=name, metrics={}, missing=missing, device=device_name(),
                              config_hash=run_hash, hyperparameters=hyperparameters(
                                  build_stage_config(cfg, "forget")))
                write_json_atomic(path, record)
        if recorded is None:
            self.ledger.put(name, run_hash, record)
        record["checkpoint"] = str(checkpoint_path(cfg, "forget"))
        record["schedule"] = schedule(cfg)
        return record

    def reference(self, stage: str, forget=("airplane",), weights: bool = False) -> dict:
        """The original or the retrain model evaluated beside the original (H-Mean); its time
        is the training time tools/train.py recorded. Quick mode trains them first. Read back
        from the ledger (keyed by the training run's hash; the weights' digest must match when
        they are on this machine) unless ``weights`` are needed."""
        cfg = self.config("delete", forget=forget)
        ckpt = checkpoint_path(cfg, stage)
        results = work_root(cfg) / "results"
        name, key = self.reference_name(stage, forget), build_stage_config(cfg, stage).run_hash
        recorded = self.ledger.get(name, key)
        if recorded is not None and (
                recorded.get("weights_digest") == file_digest(ckpt) if ckpt.is_file()
                else not weights):
            return dict(recorded, checkpoint=str(ckpt))
        if not ckpt.is_file():
            if not self.args.quick:
                return dict(name=ckpt.stem, metrics={}, missing=(
                    f"{ckpt} missing: python tools/train.py {self.args.config}"
                    + (" --retrain --cfg-options forget_classes=" + json.dumps(
                        list(forget)).replace(" ", "") if stage == "retrain" else "")))
            run_or_load(cfg, stage)
        # the original is scored once per forget request (its Acc_ft is that class's)
        record = run_or_load(cfg, "test", checkpoint=str(ckpt), name=name)
        trained = results / f"{ckpt.stem}.json"
        record["wall_time_s"] = (json.loads(trained.read_text()).get("wall_time_s")
                                 if trained.is_file() else None)
        if stage == "original":
            record["metrics"].pop("H-Mean", None)
        record.update(checkpoint=str(ckpt), schedule="-", weights_digest=file_digest(ckpt))
        self.ledger.put(name, key, dict(record, checkpoint=project_relative(ckpt)))
        return record

    # ---- sections -------------------------------------------------------------------------
    def table1(self):
        """Every method at its selected setting (configs/_base_/tuned/) on the reported classes
        x seeds; mean ± std over all of them, H-Mean ranks, and the paper side by side."""
        records = []

        def add(record, cfg=None, **tags):
            """Keep a run's record, audited at once (while its weights are here)."""
            records.append(dict(record, **tags))
            if "missing" not in record:
                self.audit(record, tags["forget_class"], cfg)

        for cls in self.args.reported:
            forget = (cls,)
            for stage in ("original", "retrain"):
                add(self.reference(stage, forget), row=f"{stage.title()} model", seed=0,
                    forget_class=cls)
            for row, method in self.methods:
                slow = method in SLOW or "(D_r)" in row
                seeds = self.args.seeds[:self.args.slow_seeds] if slow else self.args.seeds
                for seed in seeds:
                    cfg = self.config(method, seed, forget)
                    add(self.unlearn(cfg), cfg, row=row, seed=seed, forget_class=cls)
        self.write("table1", records, f"Table 1 shape: forget one class, each of "
                   f"{', '.join(self.args.reported)} (never used for tuning), every method at its "
                   "selected setting (tuning.md); rank = H-Mean rank among all methods / among "
                   "forget-only methods")
        write_paper_comparison(records, self.args.out / "table1_vs_paper.md",
                               note=self.machine(records))
        self.table1_audit(records)
        groups = tables.group([r for r in records if r["row"] in dict(self.methods)],
                              lambda r: r["row"])
        tables.boxplots({c: {n: [r["metrics"][c] for r in recs if c in r["metrics"]]
                             for n, recs in groups.items()}
                         for c in ("Acc_ft", "Acc_rt")}, self.args.out / "fig2_boxplots.png")
        return records

    def table1_audit(self, records):
        """Table 1's runs audited (cached per run): relearn, probes, loss attack and the share
        of runs whose verdict is 'indistinguishable from retrain' (table1_audit.md/.csv), and
        one audit report per method for its first seed on the first class (audit/<run>/)."""
        audits, rows = {}, []
        for r in records:
            audits[r["name"]] = None if "missing" in r else self.audit(r, r["forget_class"])
        for r in records:
            record, cls = audits[r["name"]], r["forget_class"]
            if record is None:
                continue
            retrain = audits.get(self.reference_name("retrain", (cls,)))
            pair = dict(model=record, **({"retrain": retrain} if retrain else {}))
            joint = combine(pair, Tolerances())
            rows.append(dict(row=r["row"], metrics=headline(joint),
                             verdict=joint["verdict"]["indistinguishable"]))
            if (r["row"] in dict(self.methods) and r.get("seed") == self.args.seeds[0]
                    and cls == self.args.reported[0]):
                original = audits.get(self.reference_name("original", (cls,)))
                if original:
                    pair["original"] = original
                write_report(combine(pair, Tolerances()), self.args.out / "audit" / r["name"],
                             model_name=r["row"], embed_figures=False)
        first = next((a for a in audits.values() if a), None)
        k, steps = (first["relearn_k"][-1], first["relearn_steps"][-1]) if first else (100, 25)
        headers = dict(AUDIT_HEADERS, relearn_Acc_ft=f"relearn Acc_ft ↓ ({k} images, "
                                                     f"{steps} steps)")
        groups = tables.group(rows, lambda r: r["row"])
        summary = tables.summary_rows(groups, AUDIT_COLUMNS, extra=lambda name, recs: dict(
            runs=len(recs), verdict="reference" if name == "Retrain model" else
            f"{sum(bool(r['verdict']) for r in recs)} / {len(recs)}"))
        spent = sum(a.get("audit_time_s") or 0 for a in audits.values() if a)
        s = first["settings"] if first else {}
        images = "the quick data" if self.args.quick else f"{self.args.audit_per_class} per class"
        note = (
            "Table 1's runs audited (taskforget/evaluation/audit.py; one report per method, "
            f"its seed {self.args.seeds[0]} on {self.args.reported[0]}: "
            "audit/<run>/audit.md). Each model is audited on the same seeded images: "
            f"{s.get('train_images', '-')} training and {s.get('test_images', '-')} test "
            f"images ({images}"
            f"). Relearn: a copy fine-tuned on {k} forget training images (SGD lr "
            f"{s.get('relearn_lr', '-')}, momentum 0.9, batch min(k, 32), network in eval "
            f"mode), Acc_ft after {steps} steps, and the % of as many remaining-class test "
            "images it then calls the forgotten class. Probes: forget-class recall of a "
            f"linear and a {s.get('knn_neighbors', '-')}-NN probe on frozen penultimate "
            f"features of up to {s.get('probe_per_class', '-')} test images per class, "
            "out-of-fold. "
            "Loss attack: ROC AUC of log p_y, forget-class training (D_f) vs test (D_ft) "
            "images; 0.5 = D_f looks unseen. Indistinguishable = runs whose every criterion "
            f"is within its tolerance of the retrain model's ({Tolerances().describe()}). "
            f"Audit wall time (these runs, when computed): {spent:.0f} s. {self.machine(records)}")
        missing = [r["missing"] for r in records if "missing" in r]
        if missing:
            note += "\n\nNot audited (missing): " + "; ".join(missing)
        tables.write_table(summary, AUDIT_COLUMNS, self.args.out / "table1_audit", headers,
                           ["runs", "verdict"], note=note)
        return summary

    def table5(self):
        records = [dict(self.reference("retrain"), row="Retrain model")]
        for alpha in (0.0, 0.25, 0.5, 0.75):
            for t in (1.0, 5.0, 10.0):
                cfg = self.config("delete", **{"model.alpha": alpha, "model.temperature": t,
                                           "run_suffix": f"_a{alpha:g}_T{t:g}"})
                records.append(dict(self.unlearn(cfg), row=f"DELETE alpha={alpha:g} T={t:g}"))
        self.write("table5", records, "Table 5 shape: DELETE's alpha (forgetting condition) and "
                   "T (retention condition), seed 0")

    def table4(self):
        methods = self.methods if not self.args.quick else self.methods[:3]
        methods = [m for m in methods if m in FORGET_ONLY]
        records = []
        for k, forget in CLASS_SETS.items():
            if self.args.quick and k == 5:
                continue
            records.append(dict(self.reference("retrain", forget), row="Retrain model", k=k))
            for row, method in methods:
                records.append(dict(self.unlearn(self.config(method, 0, forget)), row=row, k=k))
        ks = sorted({r["k"] for r in records})
        for k in ks:
            self.write(f"table4_{k}class", [r for r in records if r["k"] == k],
                       f"Table 4 shape: forget {k} class(es) {CLASS_SETS[k]}, seed 0, every "
                       "method at its single-class learning rate")
        rows = [m[0] for m in methods]
        tables.lineplots(ks, {c: {n: [next((r["metrics"].get(c, math.nan) for r in records
                                             if r["row"] == n and r["k"] == k), math.nan)
                                       for k in ks] for n in ["Retrain model", *rows]}
                              for c in ("Acc_ft", "Acc_rt")},
                         self.args.out / "fig3_fixed_lr.png", xlabel="forgotten classes")

    def table3(self):
        methods = self.methods if not self.args.quick else self.methods[:3]
        records = [dict(self.reference("original"), row="Original model"),
                   dict(self.reference("retrain"), row="Retrain model")]
        for row, method in [m for m in methods if m in FORGET_ONLY]:
            cfg = self.config(method, 0, **{"model.frozen": ["head"],
                                            "run_suffix": "_frozenhead"})
            records.append(dict(self.unlearn(cfg), row=row))
        self.write("table3", records, "Table 3 shape: classifier layer frozen "
                   "(`model.frozen=['head']`), only the feature extractor unlearns; seed 0")

    def tsne(self):
        """Figure 4 on the first reported class (its retrain model's weights needed)."""
        from sklearn.manifold import TSNE
        plt = tables._plt()
        forget = (self.args.reported[0],)
        forget_ids = [list(self.config(None).class_names).index(forget[0])]
        shown = [("Original", self.reference("original", forget, weights=True)),
                 ("Retrain", self.reference("retrain", forget, weights=True)),
                 ("DELETE", self.unlearn(self.config(None, 0, forget), weights=True)),
                 ("Boundary Shrink", self.unlearn(self.config("boundary_shrink", 0, forget),
                                                  weights=True))]
        shown = [s for s in shown if "missing" not in s[1]]
        fig, axes = plt.subplots(1, len(shown), figsize=(4.5 * len(shown), 4.5), squeeze=False)
        for ax, (title, record) in zip(axes[0], shown):
            feats, labels, preds = self.features(record["checkpoint"], per_class=100, preds=True)
            emb = TSNE(n_components=2, init="pca", random_state=0,
                       perplexity=min(30, len(feats) // 4)).fit_transform(feats)
            forgotten = np.isin(labels, forget_ids)
            for marker, sel in (("o", ~forgotten), ("^", forgotten)):
                ax.scatter(emb[sel, 0], emb[sel, 1], c=preds[sel], cmap="tab10", vmin=0, vmax=9,
                           s=6 if marker == "o" else 14, marker=marker)
            ax.set_title(title)
            ax.set_xticks([])
            ax.set_yticks([])
        fig.suptitle(f"t-SNE of penultimate features, {forget[0]} forgotten (colour = "
                     "predicted class, triangles = the forgotten class)")
        fig.tight_layout()
        save_figure_atomic(fig, self.args.out / "fig4_tsne.png", dpi=120)
        plt.close(fig)

    # ---- helpers --------------------------------------------------------------------------
    def reference_name(self, stage: str, forget) -> str:
        """The results name of :meth:`reference`'s record."""
        cfg = self.config("delete", forget=tuple(forget))
        stem = checkpoint_path(cfg, stage).stem
        return f"eval_{stem}" if stage == "retrain" else f"eval_{stem}_{forget_tag(cfg)}"

    def audit(self, record: dict, cls: str, cfg: Optional[Config] = None) -> Optional[dict]:
        """The audit of one run's model alone (:data:`AUDIT`): read back from the ledger (keyed
        by the run's hash and the audit's settings), else computed on the run's checkpoint,
        cached in ``results/<run>_audit.json`` and recorded. When the weights are not on this
        machine, ``cfg`` (the run's config) is run again for them; without it, None."""
        base = self.config("delete", forget=(cls,))
        name = f"{record['name']}_audit"
        identity = dict(run=record["config_hash"], max_per_class=self.audit_per_class())
        key = dict(identity=identity, settings=AUDIT)
        recorded = self.ledger.get(name, key)
        if recorded is not None:
            return recorded
        checkpoint = record["checkpoint"]
        if not Path(checkpoint).is_file():
            if cfg is None:
                return None
            checkpoint = self.unlearn(cfg, weights=True)["checkpoint"]
        result = audit_checkpoint(base, checkpoint, work_root(base) / "results" / f"{name}.json",
                                  identity, lambda: self.audit_data(cls), **AUDIT)
        self.ledger.put(name, key, result)
        return result

    def audit_per_class(self):
        return None if self.args.quick else self.args.audit_per_class  # quick: its data as is

    def audit_data(self, cls: str) -> tuple:
        """(train, test) audit datasets of one forget class, built once per process."""
        if cls not in self._audit_data:
            self._audit_data[cls] = audit_datasets(self.config("delete", forget=(cls,)),
                                                   self.audit_per_class())
        return self._audit_data[cls]

    def features(self, checkpoint, per_class=None, preds=False):
        cfg = self.config("delete")
        net = load_weights(MODELS.build(cfg.model.network.to_dict()), checkpoint)
        ds_cfg = cfg.test_dataloader.dataset.to_dict()
        ds_cfg.update(split="test", forget_classes=[], subset="all")
        if per_class is not None:
            ds_cfg["max_per_class"] = per_class
        feats, labels, predictions = extract_features(net, DATASETS.build(ds_cfg))
        return (feats, labels, predictions) if preds else (feats, labels)

    def write(self, stem, records, title):
        groups = tables.group(records, lambda r: r["row"])
        rows = tables.summary_rows(groups, COLUMNS, extra=lambda name, recs: dict(
            uses_dr="yes" if "(D_r)" in name else "",
            schedule=recs[0].get("schedule", "-"), runs=len(recs)))
        methods = dict(self.methods)
        ranks = h_mean_ranks({r["name"]: r["H-Mean"][0] for r in rows if r["name"] in methods})
        for row in rows:
            row["rank"] = ranks.get(row["name"], "-")
        missing = [r["missing"] for r in records if "missing" in r]
        note = (f"{title}. Mean ± sample std over `runs` seeds (a single value when runs = 1). "
                "`uses D_r` rows (the paper's gray rows) use remaining data. MIA = % of "
                "forget-set training images the confidence attack calls 'member' (DELETE's "
                "convention; SalUn's MIA-efficacy = 100 - MIA). time = unlearning wall time "
                "(training only) as each run found the machine, which other benchmark processes "
                "often shared: a rough cost; benchmarks/speed.py and cost_curve.py time methods "
                f"side by side. {self.machine(records)}")
        if self.args.max_forget_epochs is not None:
            note += f" Every method's epochs capped at {self.args.max_forget_epochs}."
        if missing:
            note += "\n\nMissing: " + "; ".join(missing)
        tables.write_table(rows, COLUMNS, self.args.out / stem, HEADERS,
                           ["uses_dr", "schedule", "runs", "rank"], note=note)

    def machine(self, records=()):
        devices = sorted({r["device"] for r in records if r.get("device")}) or [device_name()]
        return (f"Runs on: {', '.join(devices)} (this table written on {device_name()}, "
                f"{os.cpu_count()} CPU cores)" + (", QUICK mode (tiny model and data: checks "
                                                "the code, not the method)" if self.args.quick
                                                else ""))


def h_mean_ranks(h_means: dict) -> dict:
    """``{row: 'all / forget-only'}`` H-Mean ranks (1 = best; a D_r row has no forget-only
    rank); rows without an H-Mean (diverged everywhere) are left out."""
    valid = {k: v for k, v in h_means.items() if v is not None and not math.isnan(v)}

    def order(names):
        return {n: i + 1 for i, n in enumerate(sorted(names, key=lambda n: -valid[n]))}

    everyone = order(valid)
    forget_only = order([n for n in valid if "(D_r)" not in n])
    return {n: f"{everyone[n]} / {forget_only.get(n, '-')}" for n in valid}


def write_paper_comparison(records, path: Path, note: str = "") -> Path:
    """Our Table 1 beside the paper's: each row's Acc_ft, Acc_rt and H-Mean and its Acc_rt as a
    share of the retrain model's, in each; 'keeps the paper's share' when ours is at least the
    paper's at the one decimal the table shows (issue #12's target)."""
    groups = tables.group(records, lambda r: r["row"])
    classes = ", ".join(dict.fromkeys(r["forget_class"] for r in records if "forget_class" in r))
    mean = {name: {c: tables.mean_std(tables.metric(r, c) for r in recs)[0]
                   for c in ("Acc_ft", "Acc_rt", "H-Mean")} for name, recs in groups.items()}
    retrain_ours = mean.get("Retrain model", {}).get("Acc_rt", math.nan)
    retrain_paper = PAPER_TABLE1["Retrain model"][1]

    def cell(v, digits=2):
        return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else \
            f"{v:.{digits}f}"

    lines = ["| method | ours Acc_ft | ours Acc_rt | ours H-Mean | ours share of retrain Acc_rt "
             "| paper Acc_ft | paper Acc_rt | paper H-Mean | paper share | keeps the paper's "
             "share |", "|" + "---|" * 10]
    for name, m in mean.items():
        paper = PAPER_TABLE1.get(name)
        share = 100 * m["Acc_rt"] / retrain_ours if retrain_ours else math.nan
        paper_share = 100 * paper[1] / retrain_paper if paper else None
        keeps = ("-" if paper is None or name in ("Original model", "Retrain model") or
                 math.isnan(share) else ("yes" if round(share, 1) >= round(paper_share, 1)
                                           else "**no**"))
        lines.append("| " + " | ".join([
            name, cell(m["Acc_ft"]), cell(m["Acc_rt"]), cell(m["H-Mean"]), cell(share, 1),
            *(cell(v) for v in (paper or (None,) * 3)), cell(paper_share, 1), keeps]) + " |")
    text = "\n".join([
        "# Table 1 beside the paper's (CIFAR-10)", "",
        f"Ours: means over {classes} x seeds (table1.md); the paper: ResNet-18, "
        "its Table 1. Share = Acc_rt / the retrain model's Acc_rt (%), which is comparable "
        "across the two protocols where the absolute numbers are not; 'keeps' compares the "
        "two shares at the one decimal shown.", "", *lines, "",
        note, ""])
    write_text_atomic(path, text)
    return path


def schedule(cfg: Config) -> str:
    """'20 ep SGD 3e-04, BN frozen' style summary of a run's unlearning schedule (batch norm
    frozen: ``model.norm_eval``), ending in ', untuned' when no search selected it."""
    epochs = cfg.forget.train_cfg.max_epochs
    opt = cfg.forget.optim_wrapper.optimizer
    text = ("weight edit" if epochs == 0 else f"{epochs} ep {opt.type} {opt.lr:.0e}"
            + (", BN frozen" if cfg.model.get("norm_eval") else ""))
    return text if is_tuned(cfg) else text + ", untuned"


def main(argv=None):
    os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
    args = parse_args(argv)
    bench = Bench(args)
    original = checkpoint_path(bench.config(None), "original")
    if not args.quick and not original.is_file():
        sys.exit(f"{original} is missing: train it first with\n"
                 f"  python tools/train.py {args.config}\n  python tools/train.py "
                 f"{args.config} --retrain")
    start = time.time()
    for section in args.sections:
        print(f"[bench] section {section}", flush=True)
        getattr(bench, section)()
    print(f"[bench] done in {time.time() - start:.0f} s; outputs in {args.out}")


if __name__ == "__main__":
    main()

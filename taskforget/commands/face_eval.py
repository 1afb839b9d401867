"""Evaluate face-recognition checkpoints beside the original model: Acc_f, Acc_r, Acc_ft,
Acc_rt, H-Mean, MIA, accuracy per identity, and a Grad-CAM figure (original vs retrain vs
DELETE on forgotten and remaining identities).

    python tools/face_eval.py configs/face_yaleb_id0.py \\
        original=work_dirs/face_yaleb/original.pth \\
        retrain=work_dirs/face_yaleb/retrain_id0_seed0.pth \\
        DELETE=work_dirs/face_yaleb/delete_id0_seed0.pth \\
        --gradcam docs/results/face/gradcam_id0.png --out work_dirs/face_yaleb/eval_id0.md
"""

from taskforget.apis import markdown_table
from taskforget.checkpoint import write_text_atomic
from taskforget.cli import load_config, main_guard, parser, run_stage
from taskforget.registry import DATASETS
from taskforget.tasks.face import identity_table
from taskforget.tasks.face.gradcam import gradcam_for_config


@main_guard
def main():
    p = parser(__doc__)
    p.add_argument("checkpoints", nargs="+", metavar="NAME=PATH",
                   help="models to evaluate, e.g. original=work_dirs/face_yaleb/original.pth")
    p.add_argument("--gradcam", help="write the Grad-CAM figure (PNG) here")
    p.add_argument("--per-group", type=int, default=3,
                   help="Grad-CAM images of forgotten and of remaining identities")
    p.add_argument("--out", help="also write the tables (markdown) here")
    args = p.parse_args()
    cfg = load_config(args)
    checkpoints = dict(item.split("=", 1) for item in args.checkpoints)
    if any(not path for path in checkpoints.values()):
        p.error("checkpoints are NAME=PATH pairs, e.g. DELETE=work_dirs/x/delete_id0_seed0.pth")
    # results/<name>_eval.json beside the training runs' own results files
    records = [dict(run_stage(cfg, "test", args.launcher, checkpoint=path,
                              work_dir=args.work_dir, name=f"{name}_eval"), name=name)
               for name, path in checkpoints.items()]
    dataset = DATASETS.build(dict(cfg.test_dataloader.dataset, split="test", subset="all",
                                  forget_classes=cfg.forget_classes))
    text = (markdown_table(records) + "\n" + identity_table(
        {r["name"]: r["metrics"] for r in records}, dataset.identities, dataset.forget_ids))
    print(text)
    if args.out:
        write_text_atomic(args.out, text)
    if args.gradcam:
        print(f"Grad-CAM: {gradcam_for_config(cfg, checkpoints, args.gradcam, args.per_group)}")


if __name__ == "__main__":
    main()

"""A real, short forgetting run on Extended Yale B: a small CNN at 32x32 learns the 10 target
identities, DELETE erases identity 0, the other nine stay recognized.

The small CNN is trained from scratch in seconds and is far less robust than the benchmark's
pretrained ResNet-18: updating its batch-norm statistics on one person's images alone costs it
about 30 points of Acc_rt, so this run keeps them frozen (``norm_eval=True``)."""
import pytest
from mmengine.config import Config

from taskforget.cli import run_stage
from tests.helpers import pin_own_schedule

CONFIG = "configs/face_yaleb_id0.py"


def _pipelines(size):
    resize = dict(type="Resize", height=size + 4, width=size + 4)
    tail = [dict(type="Normalize", mean=(0.5,) * 3, std=(0.5,) * 3), dict(type="ToTensorV2")]
    return ([resize, dict(type="RandomCrop", height=size, width=size), *tail],
            [resize, dict(type="CenterCrop", height=size, width=size), *tail])


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    cfg = Config.fromfile(CONFIG)
    cfg.pretrain.pop("model")  # no pretrained encoder: the small CNN learns from scratch
    train, test = _pipelines(32)
    network = dict(type="small_cnn", num_classes=10, width=16)
    epochs = 20
    cfg.merge_from_dict({
        "work_root": str(tmp_path_factory.mktemp("face")),
        "network": network, "model.network": network,
        "train_dataloader.dataset.pipeline": train,
        "forget_dataloader.dataset.pipeline": train,
        "val_dataloader.dataset.pipeline": test, "test_dataloader.dataset.pipeline": test,
        "train_dataloader.batch_size": 32,
        "pretrain.train_cfg.max_epochs": epochs, "pretrain.train_cfg.val_interval": 100,
        "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.05, begin=0,
                                          end=epochs, by_epoch=True,
                                          convert_to_iter_based=True)],
        "forget.train_cfg.max_epochs": 15, "forget.train_cfg.val_interval": 100,
        "model.norm_eval": True,
        "default_hooks.logger.interval": 1000,
    })
    return pin_own_schedule(cfg), run_stage(cfg, "original")


def test_delete_forgets_one_identity_and_keeps_the_others(trained):
    cfg, original = trained
    before = original["metrics"]
    assert before["Acc_ft"] >= 50 and before["Acc_rt"] >= 60
    m = run_stage(cfg, "forget")["metrics"]
    assert m["Acc_ft"] == 0.0 and m["Acc_f"] <= 5.0
    assert m["id0/test"] == 0.0
    # this 32x32 model's drop depends on the thread count: ~7 points at 1 thread, 11 at 2
    assert m["Acc_rt"] >= before["Acc_rt"] - 15.0
    kept = [m[f"id{c}/test"] for c in range(1, 10)]
    assert sum(kept) / 9 == pytest.approx(m["Acc_rt"], abs=3.0)  # ~equal test sizes per id
    assert m["H-Mean"] >= 0.8 * 2 * before["Acc_rt"] * before["Acc_ft"] / (
        before["Acc_rt"] + before["Acc_ft"])

"""Every config under configs/ loads and turns into the runner config of each of its stages;
classification method configs also build their model (no data, no training)."""
from pathlib import Path

import pytest
from mmengine.config import Config

from taskforget.apis import build_stage_config
from taskforget.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
CONFIGS = sorted(p for p in (ROOT / "configs").glob("*.py"))


def stages(cfg: Config):
    """The stages a config describes: training stages when it has a pretraining schedule,
    'forget' when it has an unlearning schedule and a forget loader, 'test' always."""
    found = []
    if "pretrain" in cfg:
        found += ["original", "retrain"]
    if "forget" in cfg and "forget_dataloader" in cfg:
        found.append("forget")
    return found + ["test"]


def test_there_are_configs():
    assert len(CONFIGS) >= 3


@pytest.mark.parametrize("path", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_builds_every_stage(path, tmp_path):
    cfg = Config.fromfile(str(path))
    assert "model" in cfg and "experiment" in cfg, f"{path.name}: no model or experiment"
    for stage in stages(cfg):
        stage_cfg = build_stage_config(cfg, stage, work_dir=str(tmp_path))
        assert stage_cfg.work_dir.startswith(str(tmp_path))
        assert "test_dataloader" in stage_cfg and "test_evaluator" in stage_cfg
        if stage != "test":
            assert stage_cfg.train_dataloader.dataset.type, f"{path.name} {stage}: no dataset"
            assert "train_cfg" in stage_cfg and "optim_wrapper" in stage_cfg
        if stage == "forget":
            assert stage_cfg.train_dataloader.dataset.get("subset", "forget") == "forget"
            if path.stem.startswith("cls_"):
                model_cfg = stage_cfg.model.to_dict()
                model_cfg["original_checkpoint"] = None
                model = MODELS.build(model_cfg)
                assert type(model).__name__ == cfg.model.type
                assert model.adapter.forget_ids == (0,)
        if stage == "retrain":
            assert stage_cfg.train_dataloader.dataset.get("subset", "remain") == "remain"


def test_method_configs_mark_remaining_data_and_keep_run_names_apart():
    """Variants of one method write to distinct runs; configs that use D_r say so."""
    names = {}
    for path in CONFIGS:
        if not path.stem.startswith("cls_cifar10_resnet20_cpu_"):
            continue
        cfg = Config.fromfile(str(path))
        name = cfg.model.type.lower() + cfg.get("run_suffix", "")
        assert name not in names, f"{path.name} and {names.get(name)} share run name {name}"
        names[name] = path.name
        uses_dr = "remain_dataloader" in cfg.model
        assert uses_dr == ("uses D_r" in path.read_text()), path.name
    assert len(names) >= 21

"""Every config under configs/ loads and turns into the runner config of each of its stages;
every method fragment composes with every classification protocol and builds its model (no
data, no training)."""
import os
from pathlib import Path

import pytest
from mmengine.config import Config

from taskforget.apis import build_stage_config, protocol_request
from taskforget.errors import ConfigError
from taskforget.registry import MODELS
from taskforget.request import compose_method, method_fragment, method_name, method_names

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
        if stage == "retrain":
            assert stage_cfg.train_dataloader.dataset.get("subset", "remain") == "remain"


CLASSIFICATION = ["cls_cifar10_resnet20_cpu", "cls_cifar10_resnet18"]


@pytest.mark.parametrize("method", method_names())
@pytest.mark.parametrize("protocol", CLASSIFICATION)
def test_every_method_fragment_builds_on_every_classification_protocol(protocol, method):
    """protocol x method: the fragment's class and knobs, the protocol's network and
    defaults, the method's schedule over the protocol's; the model builds (no data)."""
    cfg = compose_method(Config.fromfile(str(ROOT / "configs" / f"{protocol}.py")), method)
    stage_cfg = build_stage_config(cfg, "forget")
    fragment = method_fragment(method)
    assert stage_cfg.model.type == fragment.model.type
    assert stage_cfg.model.network == cfg.network
    # the protocol's setting of this method (its tuned one: configs/_base_/tuned/), else the
    # fragment's own (forget-only SCRUB: False), else the protocol's default
    own = (cfg.get("method_settings") or {}).get(method, {})
    assert stage_cfg.model.get("norm_eval") == own.get("model", {}).get(
        "norm_eval", fragment.model.get("norm_eval", True if protocol.endswith("cpu") else None))
    epochs = own.get("forget", {}).get("train_cfg", {}).get(
        "max_epochs", fragment.get("forget", {}).get("train_cfg", {}).get("max_epochs"))
    if epochs is not None:
        assert stage_cfg.train_cfg.max_epochs == epochs
    assert os.path.basename(stage_cfg.work_dir) == f"{method}_airplane_seed0"
    model_cfg = stage_cfg.model.to_dict()
    model_cfg["original_checkpoint"] = None
    model = MODELS.build(model_cfg)
    assert method_name(type(model).__name__) == method.removesuffix("_dr")
    assert model.adapter.forget_ids == (0,)
    assert model.uses_remaining_data == ("remain_dataloader" in fragment.model)


def test_method_fragments_mark_remaining_data():
    """Fragments that use D_r say so in their description, and only they carry a loader."""
    names = method_names()
    assert len(names) == 21  # the Table 1 rows (UNSIR noise-only dropped: not a method)
    for name in names:
        text = (ROOT / "configs" / "_base_" / "methods" / f"{name}.py").read_text()
        uses_dr = "remain_dataloader" in method_fragment(name).model
        assert uses_dr == ("uses D_r" in text), name


def test_protocol_settings_of_one_method_override_the_fragment():
    cfg = compose_method(Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py")),
                         "influence_dr")
    assert cfg.model.num_samples == 256
    assert method_fragment("influence_dr").model.num_samples == 1000
    shrink = compose_method(Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet18.py")),
                            "boundary_shrink")
    assert tuple(shrink.model.pixel_mean) == tuple(shrink.normalize.mean)


def test_a_run_s_identity_ignores_the_settings_of_methods_it_does_not_run(tmp_path):
    """Rewriting the tuned settings file (benchmarks/tuning.py) keeps the original's training,
    its evaluation and the other methods' runs cached; a method's own setting is its run."""
    def hashes(settings, method="delete"):
        cfg = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
        cfg.merge_from_dict({"work_root": str(tmp_path)})
        cfg.method_settings = settings
        cfg = compose_method(cfg, method)
        return {stage: build_stage_config(cfg, stage).run_hash
                for stage in ("original", "retrain", "forget", "test")}

    base = hashes({})
    other = hashes({"random_label": dict(forget=dict(optim_wrapper=dict(
        optimizer=dict(lr=1e-5))))})
    own = hashes({"delete": dict(forget=dict(optim_wrapper=dict(optimizer=dict(lr=1e-5))))})
    assert other == base
    assert own["forget"] != base["forget"]
    assert {s: own[s] for s in ("original", "retrain", "test")} == \
        {s: base[s] for s in ("original", "retrain", "test")}
    # which method is composed is not part of training the original
    assert hashes({}, "random_label")["original"] == base["original"]


def test_one_original_for_every_request(tmp_path):
    """The original's run is the same whichever classes a request forgets and whatever came
    before it (the run tools/train.py trains), so no request retrains it over the shared
    original.pth; the retrain model and the unlearning run stay the request's own. A backdoor
    original is poisoned towards the class it forgets: its request stays."""
    def request(classes, **keys):
        cfg = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
        cfg.merge_from_dict({"work_root": str(tmp_path), "forget_classes": classes, **keys})
        return cfg

    own, cat = request(["airplane"]), request(["cat"])
    chain = request(["dog"], lineage=[dict(classes=["cat"], run="delete_cat_seed0",
                                           checkpoint=str(tmp_path / "delete_cat_seed0.pth"))])
    assert protocol_request(own) is own
    original = {build_stage_config(c, "original").run_hash for c in (own, cat, chain)}
    assert len(original) == 1
    stage = build_stage_config(chain, "original")
    assert stage.forget_classes == ["airplane"] and "lineage" not in stage
    assert stage.test_dataloader.dataset.forget_classes == ["airplane"]
    for other in ("retrain", "forget"):
        assert build_stage_config(cat, other).run_hash != build_stage_config(own, other).run_hash
    backdoor = Config.fromfile(str(ROOT / "configs" / "backdoor_cifar10_k5.py"))
    backdoor.forget_classes = [3]
    assert protocol_request(backdoor) is backdoor


def test_bf16_autocast_only_where_bf16_is_native(tmp_path, monkeypatch):
    """A CPU without native bf16 (AVX2 only: emulated, 16-39x slower) trains in fp32; the
    precision is part of the run's settings, so its runs never read back bf16 runs."""
    from taskforget.engine import optim

    cfg = Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet20_cpu.py"))
    cfg.merge_from_dict({"work_root": str(tmp_path)})
    built = {}
    for native in (True, False):
        monkeypatch.setattr(optim, "native_bf16", lambda native=native: native)
        built[native] = {stage: build_stage_config(cfg, stage)
                         for stage in ("original", "forget", "test")}
    for stage in ("original", "forget"):
        assert built[True][stage].optim_wrapper.type == "BF16OptimWrapper"
        assert built[False][stage].optim_wrapper.type == "OptimWrapper"
        assert built[True][stage].run_hash != built[False][stage].run_hash
    assert cfg.pretrain.optim_wrapper.type == "BF16OptimWrapper"  # the experiment is untouched
    # evaluation has no optimizer: the same run on both machines, for the same weights
    assert built[True]["test"].run_hash == built[False]["test"].run_hash
    # TASKFORGET_PRECISION=fp32 on a machine with native bf16 (and AVX-512): the fp32
    # machines' runs, on their AVX2 kernels, which must be chosen before Python starts
    monkeypatch.setattr(optim, "native_bf16", lambda: True)
    monkeypatch.setattr(optim.torch.cpu, "get_capabilities", lambda: {"avx512_f": True})
    monkeypatch.setenv("TASKFORGET_PRECISION", "fp32")
    for name in optim.AVX2_KERNELS:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(ConfigError, match="needs the AVX2 kernels.*export ATEN_CPU_CAPABILITY"):
        build_stage_config(cfg, "original")
    for name, value in optim.AVX2_KERNELS.items():
        monkeypatch.setenv(name, value)
    for stage in ("original", "forget"):
        forced = build_stage_config(cfg, stage)
        assert forced.optim_wrapper.type == "OptimWrapper"
        assert forced.run_hash == built[False][stage].run_hash
    monkeypatch.setenv("TASKFORGET_PRECISION", "bf16")
    with pytest.raises(ConfigError, match="TASKFORGET_PRECISION must be one of"):
        build_stage_config(cfg, "original")


def test_bf16_is_not_native_on_the_avx2_kernels(monkeypatch):
    """A CPU with AVX512-BF16 whose kernels are limited to AVX2 (the export that reproduces an
    AVX2-only machine) emulates bf16: it trains in fp32, as that machine does."""
    from taskforget.engine import optim

    monkeypatch.setattr(optim.torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(optim.torch.cpu, "get_capabilities", lambda: {"avx512_bf16": True})
    for name in optim.AVX2_KERNELS:
        monkeypatch.delenv(name, raising=False)
    assert optim.native_bf16()
    for name in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA"):  # MKL's limit: matmul only
        monkeypatch.setenv(name, optim.AVX2_KERNELS[name])
        assert not optim.native_bf16(), name
        monkeypatch.delenv(name)
    monkeypatch.setenv("ONEDNN_MAX_CPU_ISA", "AVX512_CORE_BF16")
    assert optim.native_bf16()
    monkeypatch.setattr(optim.torch.cpu, "get_capabilities", lambda: {"avx2": True})
    assert not optim.native_bf16()


def test_a_backdoor_defense_gets_its_tuned_setting_over_its_own_model():
    cfg = Config.fromfile(str(ROOT / "configs" / "backdoor_cifar10_k3_nad.py"))
    cfg.method_settings = {"nad": dict(model=dict(norm_eval=True), forget=dict(
        optim_wrapper=dict(optimizer=dict(lr=3e-4)))), "bae_delete": dict(model=dict(
            norm_eval=False))}
    cfg = compose_method(cfg)
    assert cfg.model.type == "NAD" and cfg.model.norm_eval is True
    assert cfg.model.teacher_epochs == 5  # the leaf's own knobs stay
    assert cfg.forget.optim_wrapper.optimizer.lr == 3e-4 and cfg.method == "nad"


def test_unknown_method_lists_the_valid_names():
    with pytest.raises(ConfigError, match="unknown method 'forget_it'.*random_label"):
        compose_method(Config.fromfile(str(ROOT / "configs" / "cls_cifar10_resnet18.py")),
                       "forget_it")


def test_method_names_match_the_field_s_spelling():
    assert [method_name(c) for c in ("DELETE", "RandomLabel", "SalUn", "SCRUB", "FineTune",
                                     "InfluenceUnlearn", "LearnToUnlearn")] == [
        "delete", "random_label", "salun", "scrub", "finetune", "influence",
        "learn_to_unlearn"]


def test_a_defense_s_hash_ignores_the_other_defenses_tuned_settings(tmp_path):
    from taskforget.tasks.backdoor.defense import defense_hash
    suspect = tmp_path / "suspect.pth"
    suspect.write_bytes(b"weights")

    def key(settings):
        cfg = Config.fromfile(str(ROOT / "configs" / "backdoor_cifar10_k3_nc.py"))
        cfg.method_settings = settings
        return defense_hash(compose_method(cfg), str(suspect))

    nad = {"nad": dict(forget=dict(optim_wrapper=dict(optimizer=dict(lr=1e-5))))}
    own = {"nc_delete": dict(forget=dict(optim_wrapper=dict(optimizer=dict(lr=1e-5))))}
    assert key({}) == key(nad) != key(own)


def test_the_runner_config_formats_its_text_once_per_content(monkeypatch):
    from taskforget.cli import RunConfig
    cfg = build_stage_config(Config.fromfile(str(ROOT / "configs/demo_cifar10_cnn.py")), "forget")
    expected = cfg.pretty_text
    formatted = []
    original_property = Config.pretty_text
    monkeypatch.setattr(Config, "pretty_text", property(
        lambda self: formatted.append(1) or original_property.fget(self)))
    run_cfg = RunConfig.of(cfg)
    assert run_cfg.pretty_text == expected and run_cfg.pretty_text == expected
    assert len(formatted) == 1
    run_cfg.experiment = "renamed"  # new settings, new text
    assert "renamed" in run_cfg.pretty_text and len(formatted) == 2
    assert "renamed" in run_cfg.copy().pretty_text

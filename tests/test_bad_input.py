"""Bad input gets a clear error that names the problem (never a silent wrong answer): config
classes, command-line options, paths, numbers, checkpoints, reruns and resumes."""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from mmengine.config import Config

from taskforget.apis import build_stage_config, checkpoint_path, results_path
from taskforget.checkpoint import digest_path, read_state_dict, save_weights
from taskforget.cli import load_config, parser, run_or_load, run_stage
from taskforget.errors import (
    CheckpointError,
    ConfigError,
    DataError,
    RunExistsError,
    TaskforgetError,
)
from taskforget.registry import DATASETS, MODELS

ROOT = Path(__file__).resolve().parents[1]
CONFIG = str(ROOT / "configs" / "demo_cifar10_cnn.py")
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")
# A few images per class, decoded lazily, one epoch: each stage runs in a few seconds.
TINY = {
    "network.width": 8, "model.network.width": 8,
    "train_dataloader.dataset.max_per_class": 12, "train_dataloader.dataset.preload": False,
    "forget_dataloader.dataset.max_per_class": 12, "forget_dataloader.dataset.preload": False,
    "val_dataloader.dataset.max_per_class": 6, "val_dataloader.dataset.preload": False,
    "test_dataloader.dataset.max_per_class": 6, "test_dataloader.dataset.preload": False,
    "pretrain.train_cfg.max_epochs": 1, "pretrain.train_cfg.val_interval": 100,
    "pretrain.param_scheduler": [dict(type="OneCycleLR", eta_max=0.05, begin=0, end=1,
                                      by_epoch=True, convert_to_iter_based=True)],
    "forget.train_cfg.max_epochs": 1, "forget.train_cfg.val_interval": 100,
    "default_hooks.logger.interval": 1000, "default_hooks.checkpoint.interval": 1,
    "log_level": "WARNING",
}


def tiny(work, **overrides) -> Config:
    cfg = Config.fromfile(CONFIG)
    cfg.merge_from_dict({"work_root": str(work), **TINY, **overrides})
    return cfg


def cli_config(*argv) -> Config:
    return load_config(parser("test").parse_args([CONFIG, *argv]))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    """A tiny original model written by the tools' own stage (weights + digest sidecar)."""
    cfg = tiny(tmp_path_factory.mktemp("work"))
    run_stage(cfg, "original")
    return cfg


# 1-2. config class names against the dataset's own classes
@pytest.mark.parametrize("names, message", [
    (("automobile", "airplane") + CLASSES[2:], "order differs: class id 0 is 'automobile'"),
    (CLASSES[:9] + ("lorry",), "not in the data: \\['lorry'\\]"),
])
def test_config_class_names_must_match_the_dataset(tmp_path, names, message):
    cfg = build_stage_config(tiny(tmp_path, class_names=names), "forget")
    assert cfg.train_dataloader.dataset.class_names == names
    with pytest.raises(ConfigError, match=message):
        DATASETS.build(cfg.train_dataloader.dataset)


# 3-6. forget classes by name, exactly
def test_a_space_inside_a_class_name_is_kept_and_refused():
    with pytest.raises(ConfigError, match="unknown class name 'air plane'"):
        cli_config("--cfg-options", "forget_classes=['air plane']")
    with pytest.raises(ConfigError, match="unknown class name 'air plane'"):
        cli_config("--forget-classes", "air plane")


def test_forget_classes_argument_sets_every_dataset_and_the_adapter():
    cfg = build_stage_config(cli_config("--forget-classes", "cat", "ship"), "forget")
    assert cfg.model.adapter.forget_classes == ["cat", "ship"]
    for loader in ("train_dataloader", "test_dataloader"):
        assert cfg[loader].dataset.forget_classes == ["cat", "ship"]


def test_forget_classes_argument_is_case_exact():
    with pytest.raises(ConfigError, match="unknown class name 'Cat'"):
        cli_config("--forget-classes", "Cat")


# 7-8. data_root drives every dataset
def test_data_root_drives_every_dataset(tmp_path):
    cfg = build_stage_config(cli_config("--cfg-options", f"data_root={tmp_path}"), "forget")
    roots = [cfg[k].dataset.root for k in ("train_dataloader", "test_dataloader")]
    experiment = cli_config("--cfg-options", f"data_root={tmp_path}")
    roots += [experiment[k].dataset.root for k in ("train_dataloader", "forget_dataloader",
                                                  "val_dataloader", "test_dataloader")]
    assert roots == [str(tmp_path)] * 6


def test_a_missing_data_root_names_the_folder_and_the_fix(tmp_path):
    from taskforget.datasets.data_root import resolve_data_root
    missing = tmp_path / "nowhere" / "cifar"  # absolute, inside the temp dir, never created
    with pytest.raises(DataError, match=f"{re.escape(str(missing))} does not exist.*data_root"):
        resolve_data_root(str(missing))


# 9. relative paths resolve against the current directory
def test_relative_work_dir_is_taken_from_the_current_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = cli_config("--work-dir", "runs/a")
    assert Path(cfg.work_root) == tmp_path / "runs" / "a"
    assert Path(build_stage_config(cfg, "forget").work_dir).parent == tmp_path / "runs" / "a"


# 10-15. numbers: finite and in range
@pytest.mark.parametrize("option, message", [
    ("model.temperature=nan", "model.temperature must be a finite number, got nan"),
    ("model.temperature=inf", "model.temperature must be a finite number, got inf"),
    ("model.temperature=0", "model.temperature must be in \\(0, inf\\)"),
    ("forget.optim_wrapper.optimizer.lr=-0.1", "lr must be in \\(0, inf\\)"),
    ("forget.train_cfg.max_epochs=2.5", "max_epochs must be a whole number"),
    ("forget_dataloader.batch_size=0", "batch_size must be in \\[1, inf\\)"),
    ("forget.optim_wrapper.optimizer.momentum=1.5", "momentum must be in \\[0, 1\\]"),
    ("model.alpha=-1", "model.alpha must be in \\[0, inf\\)"),
])
def test_numbers_are_finite_and_in_range(option, message):
    cfg = cli_config("--cfg-options", option)
    with pytest.raises(ConfigError, match=message):
        build_stage_config(cfg, "forget")


def test_the_loss_refuses_alpha_above_one():
    with pytest.raises(ConfigError, match="alpha must be in \\[0, 1\\]"):
        MODELS.build(dict(type="MaskedDistillationLoss", alpha=1.5))


def test_class_count_must_agree_with_the_network():
    with pytest.raises(ConfigError, match="model.network.num_classes is 12 but class_names "
                                          "lists 10"):
        cli_config("--cfg-options", "model.network.num_classes=12")


# 16-21. malformed --cfg-options
@pytest.mark.parametrize("option, message", [
    ("max_epochs", "is not KEY=VALUE"),
    ("model.temp erature=2", "not a dotted config path"),
    ("forget_clases=['cat']", "the config has no key 'forget_clases'"),
    ("forget_classes=[air plane,cat]", "must be a Python literal with quoted strings"),
    ("forget_classes=[cat,dog", "cannot read '\\[cat,dog'"),
    ("class_names.x=1", "does not fit the config"),
])
def test_malformed_options_name_the_problem(option, message):
    with pytest.raises(ConfigError, match=message):
        cli_config("--cfg-options", option)


def test_unquoted_lists_still_work():
    assert cli_config("--cfg-options", "forget_classes=[cat,dog]").forget_classes == [
        "cat", "dog"]


# 22-23. config files
def test_missing_and_broken_config_files(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(parser("t").parse_args([str(tmp_path / "none.py")]))
    broken = tmp_path / "broken.py"
    broken.write_text("model = dict(\n")
    with pytest.raises(ConfigError, match="cannot read config"):
        load_config(parser("t").parse_args([str(broken)]))


# 24-30. checkpoints: each case named
def _evil(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, (f"touch {tmp_path / 'PWNED'}",))
    return Evil()


@pytest.mark.parametrize("case, message", [
    ("empty", "is empty \\(0 bytes\\)"),
    ("truncated", "is truncated"),
    ("text", "is not a PyTorch weights file"),
    ("code", "holds Python objects beyond tensors .* refused for safety"),
    ("list", "holds no state dict of tensors \\(got list\\)"),
    ("mmengine", "is an mmengine training checkpoint .* exported"),
])
def test_each_bad_checkpoint_is_named(tmp_path, case, message):
    path = tmp_path / "ckpt.pth"
    if case == "empty":
        path.touch()
    elif case == "truncated":
        save_weights({"w": torch.zeros(1000)}, path)
        path.write_bytes(path.read_bytes()[:2000])
    elif case == "text":
        path.write_text("weights, I promise")
    elif case == "code":
        torch.save({"w": _evil(tmp_path)}, path)
    elif case == "list":
        torch.save([torch.zeros(2)], path)
    else:
        from mmengine.logging import HistoryBuffer
        torch.save({"state_dict": {"w": torch.zeros(1)}, "message_hub": HistoryBuffer()}, path)
    with pytest.raises(CheckpointError, match=message) as info:
        read_state_dict(path)
    assert "weights_only=False" not in str(info.value)
    assert not (tmp_path / "PWNED").exists()


def test_the_run_s_own_epoch_checkpoint_points_to_the_exported_weights(trained):
    epoch = Path(build_stage_config(trained, "original").work_dir) / "epoch_1.pth"
    with pytest.raises(CheckpointError, match=f"exported.*{checkpoint_path(trained, 'original')}"):
        read_state_dict(epoch)


# 31-35. reruns never overwrite another run; results record their settings
def test_results_record_hash_and_hyperparameters(trained):
    record = json.loads(results_path(trained, "original").read_text())
    assert len(record["config_hash"]) == 64
    assert record["hyperparameters"]["optimizer"]["lr"] == 0.1
    assert record["hyperparameters"]["train_cfg"]["max_epochs"] == 1


def test_a_run_with_other_settings_is_refused_then_forced(trained):
    changed = trained.copy()
    changed.merge_from_dict({"forget.optim_wrapper.optimizer.lr": 1e-3})
    first = run_stage(trained, "forget")
    with pytest.raises(RunExistsError, match="other settings.*--force"):
        run_stage(changed, "forget")
    assert run_stage(trained, "forget")["metrics"] == first["metrics"]  # same settings: fine
    run_stage(changed, "forget", force=True)
    saved = json.loads(results_path(trained, "delete_airplane_seed0").read_text())
    assert saved["hyperparameters"]["optimizer"]["lr"] == 1e-3


def test_test_stage_default_name_does_not_touch_the_forget_results(trained, tmp_path):
    run_stage(trained, "forget", force=True, name="delete_airplane_seed0")
    before = results_path(trained, "delete_airplane_seed0").read_text()
    weights = str(checkpoint_path(trained, "forget"))
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    cfg_file = tmp_path / "tiny.py"
    trained.dump(str(cfg_file))
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "test.py"), str(cfg_file),
                          weights], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert out.returncode == 0, out.stderr[-2000:]
    assert results_path(trained, "delete_airplane_seed0_test").is_file()
    assert results_path(trained, "delete_airplane_seed0").read_text() == before


def test_cache_is_keyed_by_settings(trained, capsys):
    cfg = trained.copy()
    cfg.run_suffix = "_cache"
    first = run_or_load(cfg, "forget")
    again = run_or_load(cfg, "forget")
    assert "[cache] reusing" in capsys.readouterr().out and again == json.loads(
        results_path(cfg, "delete_airplane_cache_seed0").read_text())
    cfg.merge_from_dict({"forget.train_cfg.max_epochs": 2})
    rerun = run_or_load(cfg, "forget")
    assert "other settings; running it again" in capsys.readouterr().out
    assert rerun["name"] == first["name"]
    saved = json.loads(results_path(cfg, first["name"]).read_text())
    assert saved["hyperparameters"]["train_cfg"]["max_epochs"] == 2


def test_a_changed_original_invalidates_the_cached_forget_run(trained, tmp_path):
    cfg = trained.copy()
    cfg.work_root = str(tmp_path)
    save_weights(MODELS.build(dict(cfg.model.network)), checkpoint_path(cfg, "original"))
    run_or_load(cfg, "forget")
    stage = build_stage_config(cfg, "forget")
    save_weights(MODELS.build(dict(cfg.model.network)), checkpoint_path(cfg, "original"))
    assert build_stage_config(cfg, "forget").run_hash != stage.run_hash


# 36-38. resume trusts only files this run wrote
def _resume(cfg):
    return run_stage(cfg, "original", resume=True)


def test_resume_refuses_a_planted_checkpoint(trained, tmp_path):
    cfg = trained.copy()
    cfg.work_root = str(tmp_path)
    run_dir = Path(build_stage_config(cfg, "original").work_dir)
    run_dir.mkdir(parents=True)
    torch.save({"meta": _evil(tmp_path)}, run_dir / "epoch_1.pth")
    (run_dir / "last_checkpoint").write_text(str(run_dir / "epoch_1.pth"))
    with pytest.raises(CheckpointError, match="no digest was recorded"):
        _resume(cfg)
    digest_path(run_dir / "epoch_1.pth").write_text(json.dumps(dict(sha256="0" * 64, run="x")))
    with pytest.raises(CheckpointError, match="digest mismatch"):
        _resume(cfg)
    assert not (tmp_path / "PWNED").exists()


def test_resume_refuses_a_checkpoint_of_other_settings(trained):
    cfg = trained.copy()
    cfg.merge_from_dict({"pretrain.optim_wrapper.optimizer.lr": 0.05})
    with pytest.raises(CheckpointError, match="saved by a run with other settings"):
        _resume(cfg)


def test_resume_loads_the_run_s_own_checkpoint(trained, monkeypatch):
    from taskforget.engine.hooks import TrainTimeHook

    first = json.loads(results_path(trained, "original").read_text())["wall_time_s"]
    carried = []
    before_train = TrainTimeHook.before_train

    def note_the_carried_time(self, runner):
        before_train(self, runner)
        carried.append(self._done)

    monkeypatch.setattr(TrainTimeHook, "before_train", note_the_carried_time)
    record = _resume(trained)
    assert "Acc_rt" in record["metrics"]
    assert "TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD" not in os.environ
    # nothing was left to train: the resumed run reports the training time its checkpoint
    # recorded (the first run's, less the last checkpoint's own saving), not ~0; compared with
    # what the checkpoint carried, not with a share of the first run (its saving time varies
    # with the machine's load)
    assert len(carried) == 1 and 0 < carried[0] <= first
    assert carried[0] <= record["wall_time_s"] < carried[0] + first


def test_an_interrupted_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    """Two augmented epochs in one go, and the same run stopped after its epoch-1 checkpoint
    then resumed: the same bytes (the generators' states travel in the checkpoint)."""
    from taskforget.checkpoint import file_digest
    from taskforget.engine.hooks import CheckpointDigestHook

    two_epochs = {"pretrain.train_cfg.max_epochs": 2, "pretrain.param_scheduler": [dict(
        type="OneCycleLR", eta_max=0.05, begin=0, end=2, by_epoch=True,
        convert_to_iter_based=True)]}
    whole = tiny(tmp_path / "whole", **two_epochs)
    run_stage(whole, "original")

    class Interrupted(Exception):
        pass

    record = CheckpointDigestHook.after_train_epoch

    def stop_after_the_first_checkpoint(self, runner):
        record(self, runner)
        raise Interrupted

    stopped = tiny(tmp_path / "stopped", **two_epochs)
    monkeypatch.setattr(CheckpointDigestHook, "after_train_epoch", stop_after_the_first_checkpoint)
    with pytest.raises(Interrupted):
        run_stage(stopped, "original")
    monkeypatch.undo()
    assert not checkpoint_path(stopped, "original").exists()
    _resume(stopped)
    assert file_digest(checkpoint_path(stopped, "original")) == file_digest(
        checkpoint_path(whole, "original"))


def test_training_time_adds_up_across_a_resume(monkeypatch):
    from types import SimpleNamespace

    from mmengine.logging import MessageHub, MMLogger

    from taskforget.engine import hooks

    clock = iter([100.0, 110.0, 112.0, 130.0,  # run 1: start, val 10-12, epoch ends at 130
                  500.0, 507.0,                 # run 2 (resumed): start, end
                  900.0, 905.0])                # run 3: resumed from a checkpoint without it
    monkeypatch.setattr(hooks.time, "perf_counter", lambda: next(clock))

    def runner(epoch, state=None):
        hub = MessageHub(f"hub{epoch}{state is None}")
        run = SimpleNamespace(message_hub=hub, epoch=epoch, logger=MMLogger.get_current_instance())
        hook = hooks.TrainTimeHook()
        hook.before_run(run)
        if state is not None:  # what Runner.load_or_resume does between before_run and train
            hub.load_state_dict(state)
        hook.before_train(run)
        return run, hook

    run, hook = runner(0)
    hook.before_val_epoch(run)
    hook.after_val_epoch(run)
    hook.after_train_epoch(run)  # the checkpoint saved here holds 30 - 2 = 28 s
    saved = run.message_hub.state_dict()
    assert saved["runtime_info"]["train_time_done_s"] == 28.0
    resumed, hook = runner(1, saved)
    hook.after_train(resumed)
    assert resumed.message_hub.get_info("train_time_s") == 28.0 + 7.0
    saved["runtime_info"].pop("train_time_done_s")  # a checkpoint of the earlier code
    old, hook = runner(1, saved)
    hook.after_train(old)
    assert old.message_hub.get_info("train_time_s") is None  # unknown, not 5 s


# 39. the tools: one paragraph, exit status 2; the traceback only with --debug
def test_tools_print_one_paragraph_and_exit_2(tmp_path):
    tool = [sys.executable, str(ROOT / "tools" / "forget.py"), CONFIG, "--work-dir",
            str(tmp_path), "--forget-classes", "plane"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    out = subprocess.run(tool, capture_output=True, text=True, env=env)
    assert out.returncode == 2
    assert out.stderr.startswith("taskforget: error: unknown class name 'plane'")
    assert "Traceback" not in out.stderr and len(out.stderr.splitlines()) <= 3
    debug = subprocess.run(tool + ["--debug"], capture_output=True, text=True, env=env)
    assert debug.returncode == 2 and "Traceback" in debug.stderr


def test_every_user_error_is_one_family():
    for cls in (ConfigError, DataError, CheckpointError, RunExistsError):
        assert issubclass(cls, TaskforgetError)
    from taskforget.datasets import ForgetSplitError
    from taskforget.errors import DivergedError
    assert issubclass(ForgetSplitError, ConfigError)
    assert issubclass(DivergedError, TaskforgetError)


# 40-41. the method by name: unknown names listed; options refine the chosen method
def test_unknown_method_name_lists_the_valid_ones():
    with pytest.raises(ConfigError, match="unknown method 'randomlabel': choose one of .*"
                                          "random_label"):
        cli_config("--method", "randomlabel")


def test_options_refine_the_chosen_method():
    cfg = build_stage_config(cli_config(
        "--method", "random_label", "--cfg-options", "forget.optim_wrapper.optimizer.lr=0.002"),
        "forget")
    assert cfg.model.type == "RandomLabel" and cfg.optim_wrapper.optimizer.lr == 0.002
    assert cfg.train_cfg.max_epochs == 20  # the fragment's schedule
    assert Path(cfg.work_dir).name == "random_label_airplane_seed0"

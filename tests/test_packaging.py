"""The wheel works without the source tree: configs ship inside it and are found by name, the
`taskforget` console script and `python -m taskforget` run, a shipped config's forget stage
runs from another directory, and nothing is written into the install location."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from taskforget.checkpoint import save_weights
from taskforget.datasets.data_root import archive_home, data_home
from taskforget.registry import MODELS

ROOT = Path(__file__).resolve().parents[1]
TINY = ["network.width=8", "model.network.width=8", "forget.train_cfg.max_epochs=1",
        "forget.train_cfg.val_interval=100", "log_level='WARNING'",
        *[f"{loader}.dataset.{key}={value}"
          for loader in ("forget_dataloader", "val_dataloader", "test_dataloader")
          for key, value in (("max_per_class", 10), ("preload", False))]]


@pytest.fixture(scope="module")
def installed(tmp_path_factory):
    """The wheel built from this checkout, installed into a folder of its own."""
    wheels, site = tmp_path_factory.mktemp("wheels"), tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-cache-dir", "--no-deps",
                    "--no-build-isolation", "-w", str(wheels), str(ROOT)], check=True,
                   capture_output=True)
    wheel = next(wheels.glob("taskforget-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-cache-dir", "--no-deps",
                    "--target", str(site), str(wheel)], check=True, capture_output=True)
    return site


def run(site, cwd, *args, script=False):
    env = dict(os.environ, PYTHONPATH=str(site), TASKFORGET_DATA=str(data_home()),
               TASKFORGET_ARCHIVES=str(archive_home()))
    env.pop("TASKFORGET_HOME", None)
    command = [str(site / "bin" / "taskforget")] if script else [sys.executable, "-m",
                                                                 "taskforget"]
    return subprocess.run(command + list(args), cwd=cwd, env=env, capture_output=True,
                          text=True)


def listing(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*")
                  if "__pycache__" not in p.parts)


def test_the_wheel_imports_from_its_own_folder_and_lists_its_configs(installed, tmp_path):
    out = run(installed, tmp_path, "configs", script=True)
    assert out.returncode == 0, out.stderr
    assert f"configs ({installed / 'taskforget' / 'configs'})" in out.stdout
    assert "demo_cifar10_cnn" in out.stdout and "random_label" in out.stdout
    assert (installed / "taskforget" / "configs" / "_base_" / "methods" / "delete.py").is_file()
    usage = run(installed, tmp_path, "nonsense")
    assert usage.returncode == 2 and "commands:" in usage.stderr


def test_a_shipped_config_s_forget_stage_runs_from_another_directory(installed, tmp_path):
    before = listing(installed)
    original = tmp_path / "original.pth"
    save_weights(MODELS.build(dict(type="small_cnn", num_classes=10, width=8)), original)
    out = run(installed, tmp_path, "forget", "demo_cifar10_cnn", "--checkpoint", "original.pth",
              "--work-dir", "runs", "--method", "random_label", "--cfg-options", *TINY)
    assert out.returncode == 0, out.stderr[-3000:]
    record = json.loads((tmp_path / "runs" / "results" / "random_label_airplane_seed0.json")
                        .read_text())
    assert record["hyperparameters"]["method"] == "RandomLabel"
    assert record["config"].startswith(str(installed / "taskforget" / "configs"))
    assert (tmp_path / "runs" / "random_label_airplane_seed0.pth").is_file()
    assert listing(installed) == before  # nothing written where it is installed

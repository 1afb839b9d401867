"""mmengine DDP through `torchrun --launcher pytorch` on 2 CPU processes (gloo)."""
import json
import os
import subprocess
import sys
from pathlib import Path

from taskforget.checkpoint import save_weights
from taskforget.tasks.classification.models import small_cnn

ROOT = Path(__file__).resolve().parents[1]


def test_forget_runs_on_two_gloo_processes(tmp_path):
    original = save_weights(small_cnn(num_classes=10, width=8), tmp_path / "original.pth")
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", "29533", str(ROOT / "tools" / "forget.py"),
           str(ROOT / "configs" / "demo_cifar10_cnn.py"), "--launcher", "pytorch",
           "--checkpoint", str(original), "--work-dir", str(tmp_path),
           "--cfg-options", "model.network.width=8", "forget.train_cfg.max_epochs=1",
           "forget_dataloader.dataset.max_per_class=64", "forget_dataloader.batch_size=16",
           "val_dataloader.dataset.max_per_class=20", "test_dataloader.dataset.max_per_class=20"]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    done = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Distributed training: True" in done.stdout + done.stderr
    record = json.loads((tmp_path / "results" / "delete_airplane_seed0.json").read_text())
    assert set(record["metrics"]) >= {"Acc_f", "Acc_r", "Acc_ft", "Acc_rt", "H-Mean", "MIA"}
    assert (tmp_path / "delete_airplane_seed0.pth").is_file()

import os
import stat

import numpy as np
import pytest
import torch

from taskforget.checkpoint import (
    CheckpointError,
    load_weights,
    read_state_dict,
    save_figure_atomic,
    save_weights,
    savez_atomic,
    write_bytes_atomic,
    write_csv_atomic,
    write_text_atomic,
)
from taskforget.tasks.classification.models import resnet8, small_cnn


def test_save_is_atomic_and_round_trips(tmp_path):
    model = resnet8(num_classes=3)
    path = save_weights(model, tmp_path / "sub" / "m.pth")
    assert os.listdir(tmp_path / "sub") == ["m.pth"]  # no temporary file left behind
    other = load_weights(resnet8(num_classes=3), path)
    for a, b in zip(model.state_dict().values(), other.state_dict().values()):
        assert torch.equal(a, b)


def test_atomic_writes_leave_the_permissions_of_a_plain_write(tmp_path):
    """mkstemp makes owner-only files; a result written atomically must be as readable as one
    written by open(), and a failed write must leave neither file nor temp file."""
    (tmp_path / "plain.txt").write_text("x")
    want = stat.S_IMODE((tmp_path / "plain.txt").stat().st_mode)
    for path in (write_text_atomic(tmp_path / "a.md", "x"),
                 write_csv_atomic(tmp_path / "a.csv", [["h"], [1]]),
                 write_bytes_atomic(tmp_path / "a.png", b"x"),
                 save_weights(resnet8(num_classes=3), tmp_path / "m.pth")):
        assert stat.S_IMODE(path.stat().st_mode) == want, path
    assert (tmp_path / "a.csv").read_bytes() == b"h\r\n1\r\n"  # what csv.writer writes

    def fail(_):
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        write_csv_atomic(tmp_path / "b.csv", map(fail, [1]))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "a.csv", "a.md", "a.png", "m.pth", "plain.txt"]


def test_figures_and_arrays_are_written_atomically(tmp_path):
    """The PNG is a real PNG, the archive reads back, a figure whose drawing fails leaves no
    file, and an archive name numpy would silently extend is refused."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots()
    ax.plot([0, 1], [1, 0])
    path = save_figure_atomic(fig, tmp_path / "f.png", dpi=50)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    ax.set_title("$\\undefinedmacro$")  # mathtext fails at draw time
    with pytest.raises(ValueError):
        save_figure_atomic(fig, tmp_path / "g.png")
    plt.close(fig)
    masks = np.arange(6.0).reshape(2, 3)
    with np.load(savez_atomic(tmp_path / "t.npz", masks=masks)) as f:
        np.testing.assert_array_equal(f["masks"], masks)
    with pytest.raises(ValueError, match="must end in .npz"):
        savez_atomic(tmp_path / "t.bin", masks=masks)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.png", "t.npz"]


def test_a_checkpoint_for_another_model_is_refused_with_the_reason(tmp_path):
    path = save_weights(resnet8(num_classes=3), tmp_path / "m.pth")
    with pytest.raises(CheckpointError, match="shape mismatch: head.weight.*num_classes"):
        load_weights(resnet8(num_classes=5), path)
    with pytest.raises(CheckpointError, match="missing keys"):
        load_weights(small_cnn(num_classes=3), path)


def test_corrupted_and_truncated_files_are_refused(tmp_path):
    path = save_weights(resnet8(num_classes=3), tmp_path / "m.pth")
    data = path.read_bytes()
    (tmp_path / "trunc.pth").write_bytes(data[: len(data) // 2])
    (tmp_path / "junk.pth").write_bytes(b"not a checkpoint at all")
    # (match the message's own words: the tmp path holds this test's name)
    for name, message in (("trunc.pth", "is truncated"),
                          ("junk.pth", "is not a PyTorch weights file")):
        with pytest.raises(CheckpointError, match=message):
            read_state_dict(tmp_path / name)
    with pytest.raises(FileNotFoundError, match="tools/train.py"):
        read_state_dict(tmp_path / "absent.pth")


def test_pickled_code_is_not_executed(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.system, ("echo pwned",))

    torch.save({"x": Evil()}, tmp_path / "evil.pth")
    with pytest.raises(CheckpointError):
        read_state_dict(tmp_path / "evil.pth")


def test_mmengine_checkpoints_are_accepted(tmp_path):
    model = resnet8(num_classes=3)
    torch.save({"state_dict": model.state_dict()}, tmp_path / "mm.pth")
    assert set(read_state_dict(tmp_path / "mm.pth")) == set(model.state_dict())

import os
import tempfile

import pytest
import torch

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# the suite writes only inside the checkout and the temp dir: matplotlib's font cache too
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "taskforget-mpl"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _machine_precision(monkeypatch):
    """Every test sees the machine's own precision, even in a shell that exported
    TASKFORGET_PRECISION to continue a search (tests that need it set it themselves)."""
    monkeypatch.delenv("TASKFORGET_PRECISION", raising=False)

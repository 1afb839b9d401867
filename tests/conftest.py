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

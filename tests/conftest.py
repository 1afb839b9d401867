import os
import tempfile

import pytest
import torch

os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
# the suite writes only inside the checkout and the temp dir: matplotlib's font cache too
os.environ.setdefault("MPLCONFIGDIR", os.path.join(tempfile.gettempdir(), "taskforget-mpl"))
# and the user cache (yapf, imported by mmengine's config, caches its grammar there)
os.environ.setdefault("XDG_CACHE_HOME", os.path.join(tempfile.gettempdir(), "taskforget-cache"))


def pytest_configure(config):
    """Import mmengine's config once in the controlling process, before any xdist worker starts.

    Its first import on a machine makes yapf write a grammar pickle non-atomically; two workers
    importing it at once can read it half-written (``EOFError: Ran out of input`` while collecting).
    """
    if not hasattr(config, "workerinput"):
        import mmengine.config  # noqa: F401


# Test files by their total time, longest first (`pytest --durations=0`, summed per file; 2-core
# AVX2 EPYC, 2026-12-07): `make test` hands whole files to two workers in this order
# (--dist loadfile --no-loadscope-reorder), so that the longest start first and both workers
# finish together. Files not listed run after these, in their usual order.
LONGEST_FIRST = ("test_forgetting.py", "test_backdoor.py", "test_methods.py", "test_api.py",
                 "test_tables.py", "test_bad_input.py", "test_face_forgetting.py",
                 "test_segmentation.py", "test_distributed.py", "test_audit.py", "test_face.py",
                 "test_packaging.py")


def pytest_collection_modifyitems(items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(autouse=True)
def _machine_precision(monkeypatch):
    """Every test sees the machine's own precision, even in a shell that exported
    TASKFORGET_PRECISION to continue a search (tests that need it set it themselves)."""
    monkeypatch.delenv("TASKFORGET_PRECISION", raising=False)

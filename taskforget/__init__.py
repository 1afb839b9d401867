"""taskforget: class-centric machine unlearning for vision (DELETE and baselines)."""
import os

# albumentations checks PyPI for a newer version on import; never phone home.
os.environ.setdefault("NO_ALBUMENTATIONS_UPDATE", "1")

__version__ = "0.1.0"

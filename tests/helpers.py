"""Small shared pieces of the tests."""
CIFAR_PIPELINE = [dict(type="Normalize", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)),
                  dict(type="ToTensorV2")]


def pin_own_schedule(cfg):
    """Drop the protocol's tuned settings from ``cfg`` (``configs/_base_/tuned/``, rewritten by
    ``benchmarks/tuning.py`` for the real models), so that the schedule the test sets is the one
    that runs; returns ``cfg``."""
    cfg.method_settings = {}
    return cfg

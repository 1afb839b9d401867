"""Backdoor defense: BadNets poisoning, trigger recovery, unlearning the backdoor."""
from .adapter import BackdoorAdapter
from .methods import NAD, BackdoorNG, CleanFineTune, FinePruning
from .metrics import BackdoorMetric, backdoor_scores
from .poison import BackdoorDataset, BadNetsAttack, Trigger, holdout_indices, poisoned_indices

__all__ = ["BackdoorAdapter", "BackdoorMetric", "backdoor_scores", "BackdoorDataset",
           "BadNetsAttack", "Trigger", "holdout_indices", "poisoned_indices", "BackdoorNG",
           "CleanFineTune", "FinePruning", "NAD"]

from .metrics import MIA_CONVENTION, UnlearningMetric, h_mean, mia_confidence, split_accuracies

__all__ = ["MIA_CONVENTION", "UnlearningMetric", "h_mean", "mia_confidence", "split_accuracies"]

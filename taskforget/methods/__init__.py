from .base import SupervisedModel, Unlearner
from .delete import DELETE

__all__ = ["SupervisedModel", "Unlearner", "DELETE"]

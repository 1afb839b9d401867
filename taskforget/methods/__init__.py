from .base import SupervisedModel, Unlearner
from .boundary import BoundaryExpand, BoundaryShrink, LearnToUnlearn
from .common import BaselineUnlearner
from .delete import DELETE
from .gradient import UNSIR, FineTune, NegativeGradient, SalUn
from .relabel import Amnesiac, MaGA, RandomLabel
from .scrubbing import SSD, FisherForgetting, InfluenceUnlearn
from .teacher import SCRUB, BadTeacher

__all__ = ["SupervisedModel", "Unlearner", "DELETE", "BaselineUnlearner", "RandomLabel",
           "Amnesiac", "MaGA", "NegativeGradient", "FineTune", "SalUn", "UNSIR",
           "FisherForgetting", "InfluenceUnlearn", "SSD", "BadTeacher", "SCRUB",
           "BoundaryShrink", "BoundaryExpand", "LearnToUnlearn"]

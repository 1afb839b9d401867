"""Models the runner trains: the supervised original/retrain model and the Unlearner base."""
import copy
from typing import Dict, List, Optional, Sequence, Union

import torch
from mmengine.model import BaseModel
from torch import Tensor, nn

from taskforget.checkpoint import load_weights
from taskforget.errors import ConfigError
from taskforget.network import as_contract
from taskforget.registry import MODELS


def _build(cfg_or_module: Union[dict, nn.Module, object]):
    return MODELS.build(cfg_or_module) if isinstance(cfg_or_module, dict) else cfg_or_module


@MODELS.register_module()
class SupervisedModel(BaseModel):
    """Trains the original model (all classes) or the retrain model (forget data excluded).

    Args:
        network: config of the network, e.g. ``dict(type='resnet20', num_classes=10)``.
        adapter: task adapter config; supplies the loss and the per-sample predictions.
    """

    def __init__(self, network: dict, adapter: dict, data_preprocessor: Optional[dict] = None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.network = _build(network)
        self.adapter = _build(adapter)

    def forward(self, inputs: Tensor, data_samples: Optional[dict] = None, mode: str = "tensor"):
        logits = self.network(inputs)
        if mode == "loss":
            return dict(loss_ce=self.adapter.supervised_loss(logits, data_samples))
        if mode == "predict":
            return self.adapter.predict(logits, data_samples)
        return logits

    def export_state_dict(self) -> Dict[str, Tensor]:
        """Weights of the trained network alone (what tools/forget.py loads)."""
        return self.network.state_dict()


@MODELS.register_module()
class Unlearner(BaseModel):
    """Base of every unlearning method: a trainable student and a frozen teacher.

    Both start from the original weights (loaded with ``weights_only=True``). The teacher stays
    in eval mode whatever the runner does. Subclasses implement :meth:`unlearn_loss`; methods
    that edit weights without training override :meth:`before_unlearning` instead and run with
    zero epochs. The base class itself trains nothing; ``tools/test.py`` uses it to evaluate a
    checkpoint beside the original model.

    Args:
        network: network config (must match the original checkpoint).
        adapter: task adapter config (forget classes, labels, masks, predictions).
        original_checkpoint: path of the original model's weights; None keeps the random
            initialization (tests).
        checkpoint: weights the student starts from when not the original's (evaluating a
            retrained or unlearned model beside the original: ``tools/test.py``).
        frozen: names of student submodules that do not train (e.g. ``('head',)``: Table 3).
            ``'head'`` names the classifier of any network with the network contract
            (:mod:`taskforget.network`: e.g. ``fc`` of a torchvision ResNet).
        cache_teacher_logits: reuse the teacher's logits per sample; set automatically by
            ``UnlearningSetupHook`` when the forget pipeline is deterministic.
        norm_eval: keep the student's batch-norm layers in eval mode while unlearning, so
            their running statistics stay the original model's instead of drifting to the
            forget set's (default False: the official DELETE trains them).
        reference_checkpoint: the model evaluation compares with (``original/*`` metrics,
            H-Mean) when it is not the teacher: the first original of sequential requests.

    Class attributes say what a method needs (``taskforget.unlearn`` checks them):
    ``accepts_remaining_data`` (it can use D_r), ``requires_remaining_data``,
    ``needs_network_contract`` (it reaches the features or the classifier) and ``trains``
    (False: it only edits weights in :meth:`before_unlearning` and runs zero epochs).
    """

    uses_remaining_data = False
    accepts_remaining_data = False
    requires_remaining_data = False
    needs_network_contract = False
    trains = True

    def __init__(self, network: dict, adapter: dict, original_checkpoint: Optional[str] = None,
                 checkpoint: Optional[str] = None, frozen: Sequence[str] = (),
                 cache_teacher_logits: bool = False, data_preprocessor: Optional[dict] = None,
                 norm_eval: bool = False, reference_checkpoint: Optional[str] = None):
        super().__init__(data_preprocessor=data_preprocessor)
        self.norm_eval = norm_eval
        self.student = _build(copy.deepcopy(network) if isinstance(network, dict) else network)
        if original_checkpoint is not None:
            load_weights(self.student, original_checkpoint)
        self.teacher = copy.deepcopy(self.student).requires_grad_(False).eval()
        # What the 'original/' metrics and H-Mean compare with: the first original model of a
        # chain of requests (whose teacher is the current model), else the teacher itself.
        self.reference = self.teacher
        if reference_checkpoint is not None and reference_checkpoint != original_checkpoint:
            self.reference = load_weights(copy.deepcopy(self.teacher),
                                          reference_checkpoint).requires_grad_(False).eval()
        if checkpoint is not None:
            load_weights(self.student, checkpoint)
        for name in frozen:
            _submodule(self.student, name).requires_grad_(False)
        self.adapter = _build(adapter)
        self.cache_teacher_logits = cache_teacher_logits
        self._teacher_logits: Dict[int, Tensor] = {}
        self._teacher_predictions: Dict[int, dict] = {}

    def train(self, mode: bool = True) -> "Unlearner":
        super().train(mode)
        self.teacher.eval()
        self.reference.eval()
        if self.norm_eval:
            for module in self.student.modules():
                if isinstance(module, nn.modules.batchnorm._BatchNorm):
                    module.eval()
        return self

    @torch.no_grad()
    def teacher_logits(self, inputs: Tensor, data_samples: dict) -> Tensor:
        """The frozen teacher's logits for this batch, cached per sample ``uid`` when allowed."""
        if not self.cache_teacher_logits:
            return self.teacher(inputs).float()
        keys = data_samples["uid"].tolist()
        if any(k not in self._teacher_logits for k in keys):
            for k, row in zip(keys, self.teacher(inputs).float().cpu()):
                self._teacher_logits[k] = row
        return torch.stack([self._teacher_logits[k] for k in keys]).to(inputs.device)

    def unlearn_loss(self, inputs: Tensor, data_samples: dict) -> Dict[str, Tensor]:
        """Loss dict on a forget batch; every key containing 'loss' is summed."""
        raise NotImplementedError

    def before_unlearning(self, runner) -> None:
        """Called once before the first epoch (saliency masks, weight scrubbing, ...)."""

    def forward(self, inputs: Tensor, data_samples: Optional[dict] = None, mode: str = "tensor"):
        if mode == "loss":
            return self.unlearn_loss(inputs, data_samples)
        if mode == "predict":
            return self.predict(inputs, data_samples)
        return self.student(inputs)

    @torch.no_grad()
    def predict(self, inputs: Tensor, data_samples: dict) -> List[dict]:
        """Student predictions, each with the original model's under ``'original'``.

        The original model's predictions on the (deterministic) evaluation data are computed
        once and reused, so evaluating during unlearning costs one forward pass per image; a
        student that holds the original's weights (evaluating the original itself) lends its
        own predictions instead of a second pass.
        """
        results = self.adapter.predict(self.student(inputs), data_samples)
        keys = data_samples["uid"].tolist()
        if any(k not in self._teacher_predictions for k in keys):
            if self._student_is_reference():
                teacher_results = [dict(result) for result in results]
            else:
                teacher_results = self.adapter.predict(self.reference(inputs), data_samples)
            self._teacher_predictions.update(zip(keys, teacher_results))
        for result, key in zip(results, keys):
            result["original"] = self._teacher_predictions[key]
        return results

    def _student_is_reference(self) -> bool:
        """Whether the student's weights and buffers equal the reference model's, bit for bit
        (both are in eval mode when predicting, so their predictions are the same)."""
        mine, theirs = self.student.state_dict(), self.reference.state_dict()
        return mine.keys() == theirs.keys() and all(
            mine[k].shape == theirs[k].shape and torch.equal(mine[k], theirs[k]) for k in mine)

    def export_state_dict(self) -> Dict[str, Tensor]:
        """Weights of the unlearned network (same layout as the original checkpoint)."""
        return self.student.state_dict()


def _submodule(network: nn.Module, name: str) -> nn.Module:
    """``network.get_submodule(name)``; ``'head'`` falls back to the contract's classifier."""
    try:
        return network.get_submodule(name)
    except AttributeError:
        if name == "head":
            return as_contract(network, "frozen=('head',)").head
        raise ConfigError(f"frozen names {name!r}, which {type(network).__name__} does not "
                          "have: give dotted submodule names (see network.named_modules())")

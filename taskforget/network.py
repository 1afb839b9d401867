"""The network contract: what the methods that reach inside a network ask of it.

Most methods need only ``network(x) -> logits``. A few also need the penultimate features and
the final linear classifier: Boundary Expand (a shadow class beside the classifier, on its input
features), Fine-Pruning (prunes the classifier's input channels), ``frozen=('head',)`` (freezes
the classifier) and the benchmarks' linear probe. They see the network through
:func:`as_contract`.

The contract is timm's (``timm.models``); a network that offers

    forward_features(x)                  (N, C, H, W) images -> whatever forward_head takes
    forward_head(f, pre_logits=False)    -> (N, K) logits; pre_logits=True: (N, D) features
    get_classifier()                     -> the final nn.Linear(D, K)

with ``forward(x) == get_classifier()(forward_head(forward_features(x), pre_logits=True))``
fulfils it (every timm classifier and taskforget's ``Classifier`` do). :func:`as_contract` also
adapts, without any change to the network:

- a ``features(x) -> (N, D)`` method with an ``nn.Linear`` ``head`` (taskforget's layout);
- torchvision classifiers: the last ``nn.Linear`` under ``head`` (swin), ``fc`` (resnet,
  regnet, googlenet), ``classifier`` (vgg, alexnet, efficientnet, mobilenet, convnext,
  densenet) or ``heads`` (vit); its input is read with a forward hook, and the network's
  output must be that layer's output (checked on every call);
- an ``nn.Sequential`` whose last layer is an ``nn.Linear`` (read the same way).

A network with none of these (e.g. squeezenet's convolutional classifier, any segmentation
network) still runs every method except those in :data:`CONTRACT_USERS`.
"""
from typing import Callable, Optional, Protocol, Tuple, runtime_checkable

from torch import Tensor, nn

from taskforget.errors import TaskforgetError

# What needs the contract; every other method runs on any network returning logits.
CONTRACT_USERS = ("BoundaryExpand", "FinePruning", "frozen=('head',)")
# torchvision's names of the classifier, in the order they are tried.
HEAD_ATTRIBUTES = ("head", "fc", "classifier", "heads")


class NetworkContractError(TaskforgetError, TypeError):
    """The network offers no penultimate features and linear classifier."""


@runtime_checkable
class FeatureNetwork(Protocol):
    """The contract a network can implement itself (timm's names and meanings)."""

    def forward_features(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images -> whatever :meth:`forward_head` takes."""

    def forward_head(self, x: Tensor, pre_logits: bool = False) -> Tensor:
        """(N, K) logits, or the (N, D) input of the classifier when ``pre_logits``."""

    def get_classifier(self) -> nn.Module:
        """The final ``nn.Linear(D, K)``."""


class NetworkContract:
    """A network seen through the contract: penultimate features and its linear classifier.

    A view, not a wrapper: it holds no parameters and calls the network's own modules, so
    gradients and weight edits reach the network itself. Build it with :func:`as_contract`.

    Attributes:
        network: the network (not copied).
        head: its final ``nn.Linear(D, K)``.
        head_name: the head's dotted name, ``network.get_submodule(head_name) is head``.
    """

    def __init__(self, network: nn.Module, head: nn.Linear,
                 features: Optional[Callable[[Tensor], Tensor]] = None):
        self.network, self.head = network, head
        self.head_name = next((name for name, m in network.named_modules() if m is head), None)
        if self.head_name is None:
            raise NetworkContractError(f"{type(network).__name__}'s classifier is not one of its "
                                       "submodules")
        self._features = features

    def features_and_logits(self, x: Tensor) -> Tuple[Tensor, Tensor]:
        """One forward pass: ((N, D) penultimate features, (N, K) logits)."""
        if self._features is not None:
            features = self._features(x)
            return features, self.head(features)
        seen = {}
        handle = self.head.register_forward_hook(
            lambda module, args, output: seen.update(features=args[0], logits=output))
        try:
            logits = self.network(x)
        finally:
            handle.remove()
        if "logits" not in seen or logits is not seen["logits"]:
            raise NetworkContractError(
                f"{type(self.network).__name__}'s output is not the output of its classifier "
                f"`{self.head_name}`: implement forward_features / forward_head / "
                "get_classifier (see taskforget.network)")
        return seen["features"], logits

    def features(self, x: Tensor) -> Tensor:
        """(N, C, H, W) images -> (N, D) penultimate features (the classifier's input)."""
        return self.features_and_logits(x)[0]


def as_contract(network: nn.Module, needed_by: str = "this method") -> NetworkContract:
    """The network seen through the contract (see the module doc for what is adapted).

    Args:
        network: any ``nn.Module``.
        needed_by: who asks, named in the error.

    Returns:
        A :class:`NetworkContract` view of ``network``.

    Raises:
        NetworkContractError: the network has no recognizable linear classifier.
    """
    if isinstance(network, FeatureNetwork) and isinstance(network.get_classifier(), nn.Linear):
        return NetworkContract(network, network.get_classifier(), lambda x: network.forward_head(
            network.forward_features(x), pre_logits=True))
    features, head = getattr(network, "features", None), getattr(network, "head", None)
    if callable(features) and not isinstance(features, nn.Module) and \
            isinstance(head, nn.Linear):
        return NetworkContract(network, head, features)
    for name in HEAD_ATTRIBUTES:
        module = getattr(network, name, None)
        if isinstance(module, nn.Module):
            linears = [m for m in module.modules() if isinstance(m, nn.Linear)]
            if linears:
                return NetworkContract(network, linears[-1])
    if isinstance(network, nn.Sequential) and len(network) and \
            isinstance(network[-1], nn.Linear):
        return NetworkContract(network, network[-1])
    raise NetworkContractError(
        f"{needed_by} needs the network's penultimate features and final linear classifier, "
        f"and {type(network).__name__} offers neither timm's forward_features / forward_head / "
        "get_classifier, nor a features(x) method with a linear `head`, nor a torchvision "
        f"classifier (an nn.Linear under {' / '.join(HEAD_ATTRIBUTES)}), nor is it an "
        "nn.Sequential ending in an nn.Linear. Add those three "
        f"methods to the network (see taskforget.network), or use a method that needs only "
        f"the logits: all but {', '.join(CONTRACT_USERS)}.")

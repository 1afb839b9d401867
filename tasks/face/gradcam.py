"""Grad-CAM heatmaps of face networks (pytorch-grad-cam), side by side per model (Figure 5)."""
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Union

import numpy as np
import torch
from torch import Tensor, nn

from taskforget.checkpoint import save_figure_atomic

from .models import gradcam_layer


def gradcam_maps(model: nn.Module, inputs: Tensor, targets: Optional[Sequence[int]] = None,
                 layer: Optional[nn.Module] = None) -> np.ndarray:
    """Grad-CAM of ``model`` on a batch.

    Args:
        model: a face Classifier (its last conv block is used unless ``layer`` is given).
        inputs: (N, C, H, W) normalized images.
        targets: class per image whose evidence is shown; None: the model's own prediction.
        layer: Grad-CAM's target layer.

    Returns:
        (N, H, W) float maps in [0, 1].
    """
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    model = model.eval()
    with GradCAM(model=model, target_layers=[layer or gradcam_layer(model)]) as cam:
        return cam(input_tensor=inputs, targets=None if targets is None else [
            ClassifierOutputTarget(int(t)) for t in targets])


@torch.no_grad()
def predict(model: nn.Module, inputs: Tensor) -> np.ndarray:
    """(N,) predicted class ids."""
    return model.eval()(inputs).argmax(1).numpy()


def gradcam_figure(images: np.ndarray, labels: Sequence[int], models: Dict[str, nn.Module],
                   inputs: Tensor, path: Union[str, Path], forget_ids: Sequence[int] = (),
                   names: Optional[Sequence[str]] = None) -> Path:
    """One column per image, one row per model: Grad-CAM of the predicted class over the face.

    Args:
        images: (N, H, W, 3) float images in [0, 1], as displayed.
        labels: (N,) true class ids.
        models: row name -> network (e.g. original, retrain, DELETE).
        inputs: (N, C, H, W) the same images as the networks take them.
        path: PNG written here.
        forget_ids: forgotten classes (their columns are titled 'forgotten').
        names: display name per class id.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pytorch_grad_cam.utils.image import show_cam_on_image

    names = names or [f"id{i}" for i in range(max(labels) + 1)]
    n = len(images)
    fig, axes = plt.subplots(len(models) + 1, n, figsize=(1.6 * n, 1.75 * (len(models) + 1)),
                             squeeze=False)
    for j, (image, label) in enumerate(zip(images, labels)):
        kind = "forgotten" if label in forget_ids else "remaining"
        axes[0, j].imshow(image)
        axes[0, j].set_title(f"{kind}\n{names[label]}", fontsize=8,
                             color="crimson" if kind == "forgotten" else "black")
    rows: List[str] = list(models)
    for i, row in enumerate(rows, start=1):
        maps = gradcam_maps(models[row], inputs)
        preds = predict(models[row], inputs)
        for j, (image, label) in enumerate(zip(images, labels)):
            axes[i, j].imshow(show_cam_on_image(image.astype(np.float32), maps[j], use_rgb=True))
            ok = preds[j] == label
            axes[i, j].set_xlabel(f"pred {names[preds[j]]}", fontsize=7, labelpad=2,
                                  color="darkgreen" if ok else "crimson")
    for i, row in enumerate(["input"] + rows):
        axes[i, 0].set_ylabel(row, fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("Grad-CAM of the predicted identity (green: correct, red: wrong)", fontsize=9)
    fig.tight_layout()
    save_figure_atomic(fig, path, dpi=110)
    plt.close(fig)
    return Path(path)


def pick_samples(labels: np.ndarray, forget_ids: Sequence[int], per_group: int = 3,
                 seed: int = 0) -> List[int]:
    """Indices of ``per_group`` images of forgotten identities and ``per_group`` of remaining
    ones, each from a different identity where possible (seeded)."""
    rng = np.random.default_rng(seed)
    chosen: List[int] = []
    for forgotten in (True, False):
        ids = [c for c in np.unique(labels) if (c in forget_ids) == forgotten]
        ids = list(rng.permutation(ids))
        picked: List[int] = []
        while len(picked) < per_group and ids:
            for c in ids:
                pool = [i for i in np.flatnonzero(labels == c) if i not in picked]
                if pool and len(picked) < per_group:
                    picked.append(int(rng.choice(pool)))
            if all(not [i for i in np.flatnonzero(labels == c) if i not in picked] for c in ids):
                break
        chosen += picked
    return chosen


def denormalize(inputs: Tensor, mean: Sequence[float], std: Sequence[float]) -> np.ndarray:
    """(N, C, H, W) normalized tensor -> (N, H, W, 3) float display images in [0, 1]."""
    mean_t = torch.tensor(mean, dtype=inputs.dtype).view(1, -1, 1, 1)
    std_t = torch.tensor(std, dtype=inputs.dtype).view(1, -1, 1, 1)
    images = (inputs * std_t + mean_t).clamp(0, 1).permute(0, 2, 3, 1).numpy()
    return np.repeat(images, 3, axis=3) if images.shape[3] == 1 else images


def gradcam_for_config(cfg, checkpoints: Dict[str, str], path: Union[str, Path],
                       per_group: int = 3, seed: int = 0) -> Path:
    """Grad-CAM figure of an experiment config's checkpoints on its test images.

    Args:
        cfg: experiment config (``network``, ``test_dataloader``, ``forget_classes``).
        checkpoints: row name -> weights file (e.g. original, retrain, DELETE).
        path: PNG written here.
        per_group: images of forgotten and of remaining identities.
        seed: seed of the image choice.
    """
    import albumentations as A

    from taskforget.checkpoint import load_weights
    from taskforget.registry import DATASETS, MODELS

    data = dict(cfg.test_dataloader.dataset, split="test", subset="all",
                forget_classes=cfg.forget_classes)
    dataset = DATASETS.build(data)
    index = pick_samples(dataset.labels, dataset.forget_ids, per_group, seed)
    inputs = torch.stack([dataset[i]["inputs"] for i in index])
    norm = [t for t in dataset.pipeline.transforms if isinstance(t, A.Normalize)]
    mean, std = (norm[0].mean, norm[0].std) if norm else ((0.0,), (1.0,))
    models = {name: load_weights(MODELS.build(dict(cfg.network)), ckpt)
              for name, ckpt in checkpoints.items()}
    names = [f"id{c} {n}" for c, n in enumerate(dataset.identities)]
    return gradcam_figure(denormalize(inputs, mean, std), dataset.labels[index].tolist(), models,
                          inputs, path, dataset.forget_ids, names)

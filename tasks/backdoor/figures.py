"""Grad-CAM attention of the poisoned and the repaired model on triggered images (Fig. S7)."""
from pathlib import Path
from typing import List, Union

import cv2
import numpy as np
import torch
from mmengine.config import Config
from torch import nn

from taskforget.registry import DATASETS

from .defense import pixel_model


def last_feature_layer(network: nn.Module) -> nn.Module:
    """The module whose output feeds the global pooling (Grad-CAM's target layer)."""
    encoder = network.encoder
    children = list(encoder.children())
    pools = [i for i, m in enumerate(children) if isinstance(m, nn.AdaptiveAvgPool2d)]
    if not pools:
        raise TypeError("Grad-CAM target: network.encoder has no AdaptiveAvgPool2d")
    return children[pools[-1] - 1]


def gradcam_maps(model: nn.Module, images: torch.Tensor) -> np.ndarray:
    """(N, H, W) Grad-CAM maps in [0, 1] for each image's predicted class.

    Args:
        model: a :class:`~.recovery.Normalized` classifier (pixel-space input).
        images: (N, 3, H, W) in [0, 1].
    """
    from pytorch_grad_cam import GradCAM
    with GradCAM(model=model, target_layers=[last_feature_layer(model.network)]) as cam:
        return cam(input_tensor=images, targets=None)


def gradcam_figure(cfg: Config, checkpoints: List[str], names: List[str],
                   out: Union[str, Path], count: int = 6, scale: int = 4) -> Path:
    """PNG grid: one column per triggered test image (true class not the target); rows: the
    image, then each model's Grad-CAM overlay titled with its prediction.

    Args:
        cfg: a prepared backdoor config (its ``test_dataloader`` holds the triggered images).
        checkpoints: weights of the models to show (e.g. poisoned, repaired).
        names: a row label for each.
    """
    ds_cfg = dict(cfg.test_dataloader.dataset)
    ds_cfg["dataset"] = dict(ds_cfg["dataset"], pipeline=None)
    ds = DATASETS.build(ds_cfg)
    picks = np.flatnonzero(ds.items[:, 1] == 1)
    picks = picks[np.linspace(0, len(picks) - 1, count).astype(int)]
    images = torch.stack([ds[int(i)]["inputs"] for i in picks])
    rgb = images.permute(0, 2, 3, 1).numpy().astype(np.float32)
    from pytorch_grad_cam.utils.image import show_cam_on_image
    rows = [np.concatenate([(x * 255).astype(np.uint8) for x in rgb], 1)]
    labels = ["triggered"]
    for ckpt, name in zip(checkpoints, names):
        model = pixel_model(cfg, ckpt)
        with torch.no_grad():
            preds = model(images).argmax(1).tolist()
        maps = gradcam_maps(model, images)
        rows.append(np.concatenate([show_cam_on_image(x, m, use_rgb=True)
                                    for x, m in zip(rgb, maps)], 1))
        labels.append(f"{name}: " + ", ".join(cfg.class_names[p][:5] for p in preds))
    grid = []
    for row, label in zip(rows, labels):
        row = cv2.resize(row, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)
        bar = np.full((18, row.shape[1], 3), 255, np.uint8)
        cv2.putText(bar, label, (2, 13), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
        grid += [bar, row]
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(str(out), cv2.cvtColor(np.concatenate(grid, 0), cv2.COLOR_RGB2BGR))
    return out

"""Colour-coded predictions and the image / original / retrain / unlearned overlay figure
(the paper's Figure 6 / S8)."""
import io
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch
from PIL import Image
from torch import nn

from taskforget.checkpoint import write_bytes_atomic

from .datasets import IGNORE_INDEX

# SegNet's CamVid colours (index = class id); VOC's bit-interleaved colour map otherwise.
CAMVID_PALETTE = np.array([(128, 128, 128), (128, 0, 0), (192, 192, 128), (128, 64, 128),
                           (60, 40, 222), (128, 128, 0), (192, 128, 128), (64, 64, 128),
                           (64, 0, 128), (64, 64, 0), (0, 128, 192)], dtype=np.uint8)


def voc_palette(num_classes: int = 256) -> np.ndarray:
    """(num_classes, 3) uint8 PASCAL VOC colour map."""
    palette = np.zeros((num_classes, 3), dtype=np.uint8)
    for i in range(num_classes):
        c = i
        for j in range(8):
            for ch in range(3):
                palette[i, ch] |= ((c >> ch) & 1) << (7 - j)
            c >>= 3
    return palette


def colorize(label: np.ndarray, palette: np.ndarray) -> np.ndarray:
    """(H, W) class ids -> (H, W, 3) uint8 colours; ignored pixels black."""
    out = np.zeros(label.shape + (3,), dtype=np.uint8)
    keep = label != IGNORE_INDEX
    out[keep] = palette[label[keep]]
    return out


@torch.no_grad()
def predict_map(network: nn.Module, image: torch.Tensor) -> np.ndarray:
    """(3, H, W) normalized image -> (H, W) int64 predicted class ids."""
    network.eval()
    return network(image[None]).argmax(1)[0].cpu().numpy()


def overlay_figure(images: Sequence[np.ndarray], labels: Sequence[np.ndarray],
                   predictions: Dict[str, List[np.ndarray]], class_names: Sequence[str],
                   path: str, palette: Optional[np.ndarray] = None,
                   row_titles: Optional[Sequence[str]] = None, alpha: float = 0.6) -> None:
    """Write a PNG grid: one row per image; columns image, ground truth, then each model's
    prediction blended over the image; a colour legend below.

    Args:
        images: (H, W, 3) uint8 RGB images.
        labels: (H, W) ground-truth class ids (255 = ignore).
        predictions: model name -> list of (H, W) predicted class ids, one per image.
        class_names: K class names.
        path: output PNG path.
        palette: (K, 3) uint8 colours (default: CamVid's for 11 classes, else VOC's).
        row_titles: optional text left of each row.
        alpha: weight of the colour overlay.
    """
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.patches import Patch

    if palette is None:
        palette = CAMVID_PALETTE if len(class_names) == 11 else voc_palette(len(class_names))
    columns = ["image", "ground truth", *predictions]
    fig, axes = plt.subplots(len(images), len(columns), squeeze=False,
                             figsize=(2.6 * len(columns), 2.1 * len(images) + 0.8))
    for r, (image, label) in enumerate(zip(images, labels)):
        panels = [image, colorize(label, palette)]
        for preds in predictions.values():
            panels.append(((1 - alpha) * image + alpha * colorize(preds[r], palette))
                          .astype(np.uint8))
        for c, panel in enumerate(panels):
            ax = axes[r, c]
            ax.imshow(panel)
            ax.set_xticks([])
            ax.set_yticks([])
            if r == 0:
                ax.set_title(columns[c], fontsize=10)
        if row_titles:
            axes[r, 0].set_ylabel(row_titles[r], fontsize=8)
    handles = [Patch(color=palette[i] / 255, label=n) for i, n in enumerate(class_names)]
    fig.legend(handles=handles, loc="lower center", ncol=min(len(handles), 11), fontsize=8,
               frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=70)
    plt.close(fig)
    # 256 adaptive colours: a third of the bytes of the RGBA figure, no visible change
    quantized = io.BytesIO()
    Image.open(buffer).convert("RGB").quantize(colors=256).save(quantized, format="PNG",
                                                               optimize=True)
    write_bytes_atomic(path, quantized.getvalue())

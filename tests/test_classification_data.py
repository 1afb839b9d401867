import cv2
import numpy as np
import pytest
import torch

from taskforget.datasets import ForgetSplitError
from taskforget.datasets.transforms import build_pipeline
from taskforget.tasks.classification.datasets import ImageFolderClassification, TinyImageNet
from taskforget.tasks.classification.models import (
    resnet8,
    resnet18_cifar,
    resnet20,
    small_cnn,
    swin_tiny,
    vgg16_bn,
    vit_small,
)
from tests.helpers import CIFAR_PIPELINE


def test_cifar10_folder_forget_and_remain_subsets():
    kw = dict(root="cifar10", split=["train", "test"], forget_classes=["cat"], max_per_class=5,
              pipeline=CIFAR_PIPELINE)
    forget = ImageFolderClassification(subset="forget", **kw)
    remain = ImageFolderClassification(subset="remain", **kw)
    assert forget.class_names[3] == "cat" and len(forget) == 10 and len(remain) == 90
    assert set(forget.labels) == {3} and 3 not in set(remain.labels)
    item = forget[0]
    assert item["inputs"].shape == (3, 32, 32) and item["inputs"].dtype == torch.float32
    assert item["data_samples"]["label"] == 3
    # uids are unique across splits and survive subsetting
    uids = [forget[i]["data_samples"]["uid"] for i in range(len(forget))]
    assert len(set(uids)) == len(uids)
    assert not forget.augment


def test_augmented_pipelines_are_detected():
    train = [dict(type="HorizontalFlip"), dict(type="ToTensorV2")]
    ds = ImageFolderClassification(root="cifar10", split="test", max_per_class=1, pipeline=train)
    assert ds.augment


def test_augmentation_follows_the_numpy_seed():
    steps = [dict(type="RandomCrop", height=8, width=8), dict(type="HorizontalFlip")]
    image = np.random.default_rng(0).integers(0, 255, (32, 32, 3), dtype=np.uint8)

    def crops(seed):
        np.random.seed(seed)
        pipeline = build_pipeline(steps)
        return [pipeline(image=image)["image"] for _ in range(5)]

    first, again, other = crops(0), crops(0), crops(1)
    assert all(np.array_equal(a, b) for a, b in zip(first, again))
    assert not all(np.array_equal(a, b) for a, b in zip(first, other))


def test_empty_forget_set_is_refused(tmp_path):
    for cls in ("a", "b"):
        (tmp_path / "train" / cls).mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "train" / "a" / "0.png"), np.zeros((8, 8, 3), np.uint8))
    with pytest.raises(ForgetSplitError, match="forget set is empty"):
        ImageFolderClassification(root=str(tmp_path), forget_classes=["b"], subset="forget")


def test_tiny_imagenet_layout(tmp_path):
    wnids = ["n01", "n02"]
    (tmp_path / "wnids.txt").write_text("\n".join(wnids))
    lines = []
    for i, w in enumerate(wnids):
        (tmp_path / "train" / w / "images").mkdir(parents=True)
        for j in range(3):
            cv2.imwrite(str(tmp_path / "train" / w / "images" / f"{w}_{j}.JPEG"),
                        np.full((64, 64, 3), 40 * i, np.uint8))
    (tmp_path / "val" / "images").mkdir(parents=True)
    for j, w in enumerate(["n02", "n01", "n02"]):
        cv2.imwrite(str(tmp_path / "val" / "images" / f"val_{j}.JPEG"),
                    np.zeros((64, 64, 3), np.uint8))
        lines.append(f"val_{j}.JPEG\t{w}\t0\t0\t63\t63")
    (tmp_path / "val" / "val_annotations.txt").write_text("\n".join(lines))
    train = TinyImageNet(root=str(tmp_path), split="train", forget_classes=["n02"],
                         subset="remain")
    test = TinyImageNet(root=str(tmp_path), split="test")
    assert len(train) == 3 and set(train.labels) == {0}
    assert test.labels.tolist() == [1, 0, 1]
    assert test[0]["inputs"].shape == (3, 64, 64)


@pytest.mark.parametrize("builder, size", [(resnet8, 32), (resnet20, 32), (resnet18_cifar, 32),
                                           (vgg16_bn, 32), (small_cnn, 32), (vit_small, 32),
                                           (swin_tiny, 224)])
def test_every_network_gives_logits_and_features(builder, size):
    net = builder(num_classes=7).eval()
    x = torch.randn(1, 3, size, size)
    with torch.no_grad():
        logits, feats = net(x), net.features(x)
    assert logits.shape == (1, 7)
    assert feats.shape == (1, net.head.in_features)


def test_downloaded_arrays_are_exported_to_the_image_folder_layout(tmp_path):
    from taskforget.datasets.data_root import export_image_folder
    images = np.random.default_rng(0).integers(0, 255, (5, 32, 32, 3), dtype=np.uint8)
    export_image_folder(images, [1, 0, 1, 1, 0], ["cat", "dog"], tmp_path / "cifar" / "train")
    ds = ImageFolderClassification(root=str(tmp_path / "cifar"), split="train")
    assert ds.class_names == ("cat", "dog") and sorted(ds.labels.tolist()) == [0, 0, 1, 1, 1]
    first_dog = cv2.cvtColor(cv2.imread(str(tmp_path / "cifar/train/dog/0000.png")),
                             cv2.COLOR_BGR2RGB)
    assert np.array_equal(first_dog, images[0])  # lossless round trip


def test_a_bundled_archive_is_unpacked_once_by_concurrent_users(tmp_path, monkeypatch):
    """Two users of a dataset at once (test workers, benchmark processes): one unpacks, the
    other waits and uses its folder; an interrupted unpack leaves nothing half-written."""
    import tarfile
    import time
    from concurrent.futures import ThreadPoolExecutor

    from taskforget.datasets import data_root
    source, archives, home = tmp_path / "src", tmp_path / "archives", tmp_path / "data"
    (source / "orl" / "s1").mkdir(parents=True)
    (source / "orl" / "s1" / "1.png").write_bytes(b"face")
    archives.mkdir()
    with tarfile.open(archives / data_root.ARCHIVES["orl"], "w:gz") as tar:
        tar.add(source / "orl", arcname="orl")
    monkeypatch.setenv("TASKFORGET_ARCHIVES", str(archives))
    monkeypatch.setenv("TASKFORGET_DATA", str(home))
    opened, real_open = [], tarfile.open

    def broken_open(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(data_root.tarfile, "open", broken_open)
    with pytest.raises(OSError, match="disk full"):
        data_root.resolve_data_root("orl")
    assert [p.name for p in home.iterdir()] == [".orl.lock"]

    def slow_open(*args, **kwargs):  # long enough for the other user to arrive meanwhile
        opened.append(args[0])
        time.sleep(0.5)
        return real_open(*args, **kwargs)

    monkeypatch.setattr(data_root.tarfile, "open", slow_open)
    with ThreadPoolExecutor(2) as pool:
        roots = list(pool.map(data_root.resolve_data_root, ["orl", "orl"]))
    assert roots == [home / "orl"] * 2 and len(opened) == 1
    assert (home / "orl" / "s1" / "1.png").read_bytes() == b"face"
    assert sorted(p.name for p in home.iterdir()) == [".orl.lock", "orl"]

"""Face task: VGGFace2 selection on a generated folder, Yale B / ORL splits, MTCNN crops and the
no-face path, per-identity accuracy, encoder initialization from a pretraining run."""
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from taskforget.checkpoint import save_weights
from taskforget.datasets.data_root import resolve_data_root
from taskforget.tasks.face import (
    FaceFolder,
    VGGFace2,
    crop_faces,
    per_identity_accuracy,
    resnet18_face,
    select_identities,
    split_images,
)


@pytest.fixture(scope="module")
def vggface2_root(tmp_path_factory):
    """VGGFace2 layout: 111 identities with 501-506 images (eligible: more than 500), 3 with
    exactly 500 (not eligible), spread over train/ and test/ like the real dataset."""
    root = tmp_path_factory.mktemp("vggface2")
    for i in range(114):
        part = "test" if i % 10 == 0 else "train"
        folder = root / part / f"n{i:06d}"
        folder.mkdir(parents=True)
        n = 500 if i in (3, 50, 113) else 501 + i % 6
        for j in range(n):
            (folder / f"{j:04d}_01.jpg").touch()
    return root


def test_vggface2_paper_selection(vggface2_root):
    target = VGGFace2(str(vggface2_root), split=["train", "test"])
    pretrain = VGGFace2(str(vggface2_root), group="pretrain", split="train")
    groups = target.identity_groups
    assert len(groups["pretrain"]) == 100 and len(groups["target"]) == 10
    picked = set(groups["pretrain"]) | set(groups["target"])
    assert len(picked) == 110 and not {"n000003", "n000050", "n000113"} & picked
    assert target.class_names == tuple(f"id{i}" for i in range(10))
    assert list(target.identities) == sorted(groups["target"])
    assert pretrain.identities == tuple(groups["pretrain"])
    counts = np.bincount(target.labels[target.is_train], minlength=10)
    assert counts.tolist() == [400] * 10
    assert np.bincount(target.labels[~target.is_train]).tolist() == [100] * 10
    assert len(pretrain) == 100 * 400
    # train and test images of an identity are disjoint and come from its own folder
    train_files = set(target.images[i] for i in np.flatnonzero(target.is_train))
    test_files = set(target.images[i] for i in np.flatnonzero(~target.is_train))
    assert not train_files & test_files
    assert all(Path(target.images[i]).parent.name == target.identities[target.labels[i]]
               for i in range(0, len(target), 97))
    # seeded: the same seed gives the same draw, another seed another one
    again = VGGFace2(str(vggface2_root), split="test")
    assert again.identities == target.identities
    other = VGGFace2(str(vggface2_root), identity_seed=1, split="test")
    assert other.identities != target.identities


def test_vggface2_errors(vggface2_root, tmp_path):
    with pytest.raises(ValueError, match="111 of 114 identities have >= 501"):
        VGGFace2(str(vggface2_root), num_identities=112, split="train")
    with pytest.raises(FileNotFoundError, match="VGGFace2 identities"):
        VGGFace2(str(tmp_path), split="train")


def test_select_and_split_by_hand():
    counts = {"a": 5, "b": 9, "c": 2, "d": 7, "e": 6}
    pre, tgt = select_identities(counts, num_target=2, num_identities=4, min_images=5, seed=0)
    assert "c" not in pre + tgt and len(pre) == 2 and len(tgt) == 2 and pre == sorted(pre)
    files = [f"x/{i}.png" for i in range(10)]
    train, test = split_images(files, "alice", test_fraction=0.2, seed=0)
    assert len(train) == 8 and len(test) == 2 and sorted(train + test) == sorted(files)
    # the split of an identity depends on its name and the seed only
    assert split_images(files, "alice", test_fraction=0.2, seed=0) == (train, test)
    assert split_images(files, "bob", test_fraction=0.2, seed=0) != (train, test)
    with pytest.raises(ValueError, match="fewer than"):
        split_images(files, "alice", num_train=9, num_test=2)


def test_yaleb_and_orl_protocols():
    yale = FaceFolder("yaleb", split=["train", "test"])
    assert len(yale.identity_groups["pretrain"]) == 28 and len(yale.identities) == 10
    per_id_test = np.bincount(yale.labels[~yale.is_train])
    per_id_all = np.bincount(yale.labels)
    assert np.array_equal(per_id_test, np.round(0.2 * per_id_all))  # 59..64 -> 12..13
    orl = FaceFolder("orl", group="pretrain", split=["train", "test"], num_test=2)
    assert len(orl.identities) == 30 and len(orl) == 300
    assert np.bincount(orl.labels[~orl.is_train]).tolist() == [2] * 30
    item = yale[0]
    assert item["inputs"].shape == (3, 192, 168) and item["data_samples"]["label"] == 0


def _blank_and_face(tmp_path):
    root = tmp_path / "faces"
    (root / "someone").mkdir(parents=True)
    face = cv2.imread(str(resolve_data_root("orl") / "s1" / "1.png"))
    cv2.imwrite(str(root / "someone" / "face.png"), face)
    cv2.imwrite(str(root / "someone" / "blank.png"), np.full_like(face, 128))
    return root


def test_mtcnn_crops_a_real_face_and_reports_no_face(tmp_path, monkeypatch):
    root = _blank_and_face(tmp_path)
    paths = [root / "someone" / "face.png", root / "someone" / "blank.png"]
    report = crop_faces(paths, root, cache_dir=tmp_path / "cache", image_size=48, margin=6)
    assert report.no_face == [str(paths[1])] and report.policy == "center"
    crop = cv2.imread(report.crops[0])
    assert crop.shape == (48, 48, 3)
    # the crop is the face, not the 92x112 frame: darker background trimmed, centred
    assert crop.std() > 20
    blank = cv2.imread(report.crops[1])
    assert blank.shape == (48, 48, 3) and np.all(np.abs(blank.astype(int) - 128) <= 1)
    saved = json.loads((Path(report.cache_dir) / "report.json").read_text())
    assert saved["no_face"] == [str(paths[1])] and saved["total"] == 2
    assert "found a face in 1 of 2" in report.summary()

    # cached: a second call does not run MTCNN; 'drop' leaves the faceless image out
    import facenet_pytorch
    monkeypatch.setattr(facenet_pytorch, "MTCNN", None)
    dropped = crop_faces(paths, root, cache_dir=tmp_path / "cache", image_size=48, margin=6,
                         no_face="drop")
    assert dropped.crops[0] == report.crops[0] and dropped.crops[1] is None
    with pytest.raises(ValueError, match="no_face"):
        crop_faces(paths, root, no_face="skip")


def test_dataset_with_detection_drops_faceless_images(tmp_path):
    root = _blank_and_face(tmp_path)
    (root / "other").mkdir()
    for i in range(3):
        cv2.imwrite(str(root / "other" / f"{i}.png"), cv2.imread(
            str(resolve_data_root("orl") / "s2" / f"{i + 1}.png")))
    def build(group, no_face):
        return FaceFolder(str(root), group=group, num_target=1, split=["train", "test"],
                          test_fraction=0.5, detect=dict(image_size=32, margin=4, no_face=no_face,
                                                         cache_dir=str(tmp_path / "c")))
    group = "target" if build("target", "center").identities == ("someone",) else "pretrain"
    kept, dropped = build(group, "center"), build(group, "drop")
    assert kept.identities == ("someone",) and len(kept) == 2
    assert kept.detect_report.no_face == [str(root / "someone" / "blank.png")]
    assert len(dropped) == 1 and "face.png" in dropped.images[0]
    assert kept[0]["inputs"].shape == (3, 32, 32)


def test_per_identity_accuracy_by_hand():
    labels = np.array([0, 0, 1, 1, 1, 2, 0, 1])
    preds = np.array([0, 1, 1, 1, 0, 2, 0, 2])
    is_train = np.array([1, 1, 1, 1, 1, 1, 0, 0], bool)
    acc = per_identity_accuracy(labels, preds, is_train, 3)
    assert acc == {"id0/train": 50.0, "id1/train": pytest.approx(200 / 3), "id2/train": 100.0,
                   "id0/test": 100.0, "id1/test": 0.0}


def test_init_encoder_loads_the_pretrained_encoder_only(tmp_path):
    pretrained = resnet18_face(num_classes=28)
    path = save_weights(pretrained, tmp_path / "pretrain.pth")
    model = resnet18_face(num_classes=10, init_encoder=str(path))
    for k, v in pretrained.encoder.state_dict().items():
        assert torch.equal(model.encoder.state_dict()[k], v)
    assert model.head.weight.shape == (10, 512)
    with pytest.raises(FileNotFoundError, match="pretraining stage"):
        resnet18_face(init_encoder=str(tmp_path / "missing.pth"))
    with pytest.raises(Exception, match="does not fit this encoder"):
        resnet18_face(in_channels=1, init_encoder=str(path))


@pytest.mark.parametrize("name", ["face_yaleb_id0", "face_yaleb_pretrain", "face_orl_id0",
                                  "face_orl_pretrain", "face_vggface2_id0",
                                  "face_vggface2_pretrain"])
def test_face_configs_build_every_stage(name):
    from mmengine.config import Config

    from taskforget.apis import build_stage_config
    cfg = Config.fromfile(f"configs/{name}.py")
    assert len(cfg.class_names) == cfg.network.num_classes == cfg.model.network.num_classes
    stages = {s: build_stage_config(cfg, s) for s in ("original", "retrain", "forget", "test")}
    init = stages["original"].model.network.get("init_encoder")
    assert (init is None) == name.endswith("pretrain")  # only fine-tuning loads an encoder
    assert "init_encoder" not in stages["forget"].model.network
    group = "pretrain" if name.endswith("pretrain") else "target"
    for key in ("train_dataloader", "val_dataloader", "test_dataloader"):
        assert stages["original"][key].dataset.group == group
    assert stages["retrain"].train_dataloader.dataset.subset == "remain"
    if "vggface2" not in name:  # the real data is here: the groups have the configs' sizes
        from taskforget.registry import DATASETS
        data = DATASETS.build(dict(stages["original"].test_dataloader.dataset))
        assert data.class_names == tuple(cfg.class_names)


def test_inception_resnet_v1_head_and_gradcam_layer():
    from taskforget.tasks.face import gradcam_layer, inception_resnet_v1
    model = inception_resnet_v1(num_classes=7).eval()
    with torch.no_grad():
        assert model(torch.zeros(2, 3, 80, 80)).shape == (2, 7)
        assert model.features(torch.zeros(2, 3, 80, 80)).shape == (2, 512)
    assert gradcam_layer(model) is model.encoder.block8
    resnet = resnet18_face()
    assert gradcam_layer(resnet) is resnet.encoder.layer4

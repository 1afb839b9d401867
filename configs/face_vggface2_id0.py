# The paper's face protocol (Table S12): VGGFace2, ResNet-18 at 112x112, batch 64; encoder
# pretrained on 100 identities (configs/face_vggface2_pretrain.py, 80 epochs, lr 0.01), a new
# 10-way head fine-tuned for 40 epochs at lr 0.01 (the original model), DELETE for 20 epochs
# forgetting identity 0. Needs the VGGFace2 images (root `vggface2` under TASKFORGET_DATA) and
# a GPU.
_base_ = ["./_base_/datasets/vggface2.py", "./_base_/schedules/face_paper.py",
          "./_base_/default_runtime.py"]
experiment = "face_vggface2"
network = dict(type="resnet18_face", num_classes=10)
model = dict(network=network, adapter=dict(type="ClassificationAdapter"))
method = "delete"  # configs/_base_/methods/<name>.py; --method NAME picks another one
pretrain = dict(model=dict(network=dict(
    init_encoder="work_dirs/face_vggface2_pretrain/original.pth")))

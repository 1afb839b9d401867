# Pretraining stage of the VGGFace2 protocol: ResNet-18 from scratch on the 100 pretraining
# identities, 80 epochs at lr 0.01, batch 64; its encoder initializes face_vggface2_id0.py.
_base_ = ["./face_vggface2_id0.py"]
experiment = "face_vggface2_pretrain"
num_classes = 100
class_names = tuple(f"id{i}" for i in range(num_classes))
network = dict(type="resnet18_face", num_classes=num_classes)
model = dict(network=network)
_pretrain_group = dict(dataset=dict(group="pretrain"))
train_dataloader = _pretrain_group
forget_dataloader = _pretrain_group
val_dataloader = _pretrain_group
test_dataloader = _pretrain_group
pretrain = dict(model=dict(network=dict(init_encoder=None)), train_cfg=dict(max_epochs=80))

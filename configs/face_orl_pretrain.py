# Pretraining stage of the ORL face protocol: ResNet-18 from scratch on the 30 pretraining
# identities (MTCNN crops); its encoder initializes configs/face_orl_id0.py.
_base_ = ["./face_orl_id0.py"]
experiment = "face_orl_pretrain"
num_classes = 30
class_names = tuple(f"id{i}" for i in range(num_classes))
network = dict(type="resnet18_face", num_classes=num_classes)
model = dict(network=network)
_pretrain_group = dict(dataset=dict(group="pretrain"))
train_dataloader = _pretrain_group
forget_dataloader = _pretrain_group
val_dataloader = _pretrain_group
test_dataloader = _pretrain_group
pretrain = dict(model=dict(network=dict(init_encoder=None)),
                train_cfg=dict(max_epochs=30, val_interval=10),
                param_scheduler=[dict(type="OneCycleLR", eta_max=0.05, begin=0, end=30,
                                      by_epoch=True, convert_to_iter_based=True)])

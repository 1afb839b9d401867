# Pretraining stage of the Yale B face protocol: ResNet-18 trained from scratch on the 28
# pretraining identities; its encoder initializes configs/face_yaleb_id0.py. The forget class
# is nominal (only the 'original' stage is run): read Acc_test and the per-identity accuracies.
_base_ = ["./face_yaleb_id0.py"]
experiment = "face_yaleb_pretrain"
_pretrain_group = dict(dataset=dict(group="pretrain"))
train_dataloader = _pretrain_group
forget_dataloader = _pretrain_group
val_dataloader = _pretrain_group
test_dataloader = _pretrain_group
num_classes = 28
class_names = tuple(f"id{i}" for i in range(num_classes))
network = dict(type="resnet18_face", num_classes=num_classes)
model = dict(network=network)
pretrain = dict(model=dict(network=dict(init_encoder=None)),
                train_cfg=dict(max_epochs=30, val_interval=10),
                param_scheduler=[dict(type="OneCycleLR", eta_max=0.05, begin=0, end=30,
                                      by_epoch=True, convert_to_iter_based=True)])

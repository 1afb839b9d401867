# Issue #12 item 8, for a lent GPU (benchmarks/paper_protocol.sh): the paper's ResNet-18
# protocol (cls_cifar10_resnet18.py) with its pretraining SHORTENED from 150 StepLR epochs to 15
# one-cycle epochs, to fit one 10-minute call, and every method at the setting selected on the
# CPU protocol's validation class (configs/_base_/tuned/cls_cifar10_resnet20_cpu.py): whether
# those settings carry over to ResNet-18 is part of what the run shows. Loaders use 8 workers.
_base_ = ["./cls_cifar10_resnet18.py", "./_base_/tuned/cls_cifar10_resnet20_cpu.py"]
experiment = "cls_cifar10_resnet18_short"
pretrain = dict(
    train_cfg=dict(max_epochs=15, val_interval=100),
    param_scheduler=[dict(type="OneCycleLR", eta_max=0.1, begin=0, end=15, by_epoch=True,
                          convert_to_iter_based=True)],
)
_workers = dict(num_workers=8, persistent_workers=True)
train_dataloader = dict(**_workers)
forget_dataloader = dict(**_workers)
val_dataloader = dict(**_workers)
test_dataloader = dict(**_workers)

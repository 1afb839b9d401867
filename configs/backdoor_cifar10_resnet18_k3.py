# The paper's backdoor protocol for users with a GPU (never run here): BadNets 3x3 as in
# backdoor_cifar10_k3.py on the paper's ResNet-18, trained with the classification protocol's
# schedule (150 epochs SGD lr 0.1, StepLR(40, 0.1), batch 128; the paper does not give the
# poisoned model's schedule). Run with
#   python tools/poison.py configs/backdoor_cifar10_resnet18_k3.py
#   python tools/defend.py configs/backdoor_cifar10_resnet18_k3.py \
#       --checkpoint work_dirs/backdoor_cifar10_resnet18_k3/original.pth
_base_ = ["./backdoor_cifar10_k3.py"]
experiment = "backdoor_cifar10_resnet18_k3"
network = dict(_delete_=True, type="resnet18_cifar", num_classes=10)
model = dict(network=network)
pretrain = dict(
    train_cfg=dict(max_epochs=150, val_interval=10),
    optim_wrapper=dict(optimizer=dict(lr=0.1, momentum=0.9, weight_decay=5e-4, nesterov=False)),
    param_scheduler=[dict(type="StepLR", step_size=40, gamma=0.1, by_epoch=True)],
)

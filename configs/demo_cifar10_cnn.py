# `make demo`: forget 'airplane' from a small CNN trained on the full real CIFAR-10 in minutes
# on 2 CPU cores (original and retrain: 6 epochs each under bf16; DELETE: 2 epochs, fp32).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
experiment = "demo_cifar10_cnn"
network = dict(type="small_cnn", num_classes=10, width=32)
model = dict(network=network)
pretrain = dict(train_cfg=dict(max_epochs=6, val_interval=6),
                param_scheduler=[dict(type="OneCycleLR", eta_max=0.1, begin=0, end=6,
                                      by_epoch=True, convert_to_iter_based=True)])

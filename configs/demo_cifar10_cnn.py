# `make demo`: forget 'airplane' from a small CNN trained on the full real CIFAR-10, the whole
# run in about 10 minutes on 2 idle CPU cores: original and retrain 4 one-cycle epochs each of a
# width-24 CNN under bf16 (what it trades: a few points of accuracy against the 6-epoch width-32
# model this demo used to train, 25 minutes in all); DELETE 2 epochs (fp32 evaluation). Each
# stage is evaluated once, after training.
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
experiment = "demo_cifar10_cnn"
network = dict(type="small_cnn", num_classes=10, width=24)
model = dict(network=network)
pretrain = dict(train_cfg=dict(max_epochs=4, val_interval=4),
                param_scheduler=[dict(type="OneCycleLR", eta_max=0.1, begin=0, end=4,
                                      by_epoch=True, convert_to_iter_based=True)])
forget = dict(train_cfg=dict(val_interval=100))

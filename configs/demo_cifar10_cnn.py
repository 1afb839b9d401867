# `make demo`: forget 'airplane' from a small CNN trained on the full real CIFAR-10, the whole
# run in about 8 minutes on 2 idle CPU cores: original and retrain 3 one-cycle epochs each of a
# width-24 CNN under bf16 (what it trades: about 3 points of Acc_rt against 4 epochs, which took
# 11 minutes); DELETE 2 epochs (fp32 evaluation). Each stage is evaluated once, after training.
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
experiment = "demo_cifar10_cnn"
network = dict(type="small_cnn", num_classes=10, width=24)
model = dict(network=network)
pretrain = dict(train_cfg=dict(max_epochs=3, val_interval=3),
                param_scheduler=[dict(type="OneCycleLR", eta_max=0.1, begin=0, end=3,
                                      by_epoch=True, convert_to_iter_based=True)])
forget = dict(train_cfg=dict(val_interval=100))
# The protocol's tuned settings (configs/_base_/tuned/) are the ResNet-20's, not this CNN's:
# the demo runs the methods at the protocol's shared schedule (DELETE: 2 epochs at lr 3e-3,
# batch-norm statistics frozen).
method_settings = dict(_delete_=True)

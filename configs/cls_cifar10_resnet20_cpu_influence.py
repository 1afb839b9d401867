# Influence Unlearn (WoodFisher), forget-only variant: one Newton step from D_f gradients;
# 256 single-sample gradients (memory N x #params).
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="InfluenceUnlearn", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True,
             alpha=1.0, num_samples=256)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

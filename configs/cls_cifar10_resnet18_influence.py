# Influence Unlearn (WoodFisher), forget-only variant: one Newton step from D_f gradients;
# 100 single-sample gradients (memory N x #params).
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet18.py"]
model = dict(_delete_=True, type="InfluenceUnlearn", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), alpha=1.0, num_samples=100)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

# Influence Unlearn (WoodFisher) with D_r (uses D_r): v from D_f and D_r gradients;
# 256 single-sample gradients (memory N x #params).
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="InfluenceUnlearn", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True,
             remain_dataloader=dict(), alpha=1.0, num_samples=256)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))
run_suffix = "_dr"

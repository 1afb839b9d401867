# Influence Unlearn (WoodFisher) with D_r (uses D_r): v from D_f and D_r gradients;
# 100 single-sample gradients (memory N x #params).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="InfluenceUnlearn", remain_dataloader=dict(), alpha=1.0, num_samples=100)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

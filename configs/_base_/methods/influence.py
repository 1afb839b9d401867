# Influence Unlearn (WoodFisher), forget-only variant: one Newton step from D_f gradients;
# 100 single-sample gradients (memory N x #params).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="InfluenceUnlearn", alpha=1.0, num_samples=100)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

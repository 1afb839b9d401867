# Influence Unlearn (WoodFisher) with D_r (uses D_r): v from D_f and D_r gradients, then the
# official WoodFisher recursion over num_samples + 2 single-sample D_r gradients (N = 1000).
# Knob: alpha (step size; DELETE's default 0.2; tune over [1e-2, 1e2]).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="InfluenceUnlearn", remain_dataloader=dict(), alpha=1.0, num_samples=1000)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

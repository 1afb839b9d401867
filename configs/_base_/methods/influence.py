# Influence Unlearn, forget-only variant (the DELETE authors' code): one step
# theta += alpha * (mean gradient of the cross-entropy over D_f); no Hessian, no D_r.
# Knob: alpha (step size; DELETE's default 0.2; tune over [1e-2, 1e2]).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="InfluenceUnlearn", alpha=1.0)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

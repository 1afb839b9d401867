# Negative Gradient: gradient ascent on D_f's cross-entropy. Forget-set only; very lr-sensitive.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="NegativeGradient")
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=1e-5)))

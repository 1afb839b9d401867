# Selective Synaptic Dampening (uses D_r: importances over the training data); weight edit.
# Knobs: alpha (selection threshold, the official's selection_weighting: 10 for CIFAR-100/20,
# 5 for ViT, 50 for faces; with K classes it selects nothing once alpha >= ~K, so 10 is inert on
# CIFAR-10) and dampening (lambda, dampening_constant: 1; 0.1 for faces).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SSD", remain_dataloader=dict(), alpha=10.0, dampening=1.0)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

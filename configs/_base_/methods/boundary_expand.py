# Boundary Expand: train D_f into a shadow class (new row xavier-normal), then drop it.
# Forget-set only.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="BoundaryExpand")
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=8e-4)))

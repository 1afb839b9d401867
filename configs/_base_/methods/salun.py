# SalUn, forget-only variant: Random Label on the top-50% salient weights (lr 1.3e-2).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SalUn", ratio=0.5)
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=1.3e-2)))

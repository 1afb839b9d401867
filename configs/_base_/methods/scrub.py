# SCRUB, forget-only variant: its max steps on D_f alone (SGD 5e-4, 3 epochs, 2 max epochs, T 4).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SCRUB", temperature=4.0, max_epochs=2)
forget = dict(train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=5e-4)))

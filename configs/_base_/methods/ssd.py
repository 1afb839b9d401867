# Selective Synaptic Dampening (uses D_r: importances over the training data); weight edit.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SSD", remain_dataloader=dict(), alpha=10.0, dampening=1.0)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

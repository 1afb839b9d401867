# Fisher Forgetting: Fisher-scaled Gaussian noise from D_r (uses D_r); weight edit, no training.
# Knob: alpha (noise scale; the official notebook 1e-6, methods.md 1e-7; tune over [1e-8, 1e-5]).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="FisherForgetting", remain_dataloader=dict(), alpha=1e-07)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

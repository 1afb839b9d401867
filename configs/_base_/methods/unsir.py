# UNSIR, forget-only variant: impair on the error-maximizing noise alone (Adam 1e-4, 2 epochs).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="UNSIR", noise_steps=25, noise_lr=0.1)
forget = dict(train_cfg=dict(max_epochs=2),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

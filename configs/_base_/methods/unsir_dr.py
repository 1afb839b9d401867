# UNSIR (uses D_r; there is no forget-only variant): 1 impair epoch (noise + D_r), 1 repair
# epoch (D_r), Adam 1e-4.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="UNSIR", noise_steps=25, noise_lr=0.1, remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=2),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

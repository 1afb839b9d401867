# Fine-tune: cross-entropy on the remaining data D_r only (uses D_r); an epoch is one pass
# over D_r.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="FineTune", remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=10), optim_wrapper=dict(optimizer=dict(lr=2e-2)))

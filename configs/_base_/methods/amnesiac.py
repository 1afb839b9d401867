# Amnesiac (uses D_r): D_f relabelled among the remaining classes, shuffled with all of D_r into
# one dataset; an epoch is one pass over it (Adam 1e-4, 3 epochs).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="Amnesiac", remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=3),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

# Bad Teacher, forget-only variant: KL to a randomly initialized teacher on D_f (Adam 1e-4,
# 1 epoch, T 1).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="BadTeacher", temperature=1.0)
forget = dict(train_cfg=dict(max_epochs=1),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

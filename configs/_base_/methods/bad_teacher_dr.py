# Bad Teacher as published (uses D_r): D_f and a fixed 30% of D_r (drawn once per seed) in one
# shuffled dataset under one KL: forget rows to the random teacher, the others to the original
# (Adam 1e-4, 1 epoch, T 1; bad-teaching-unlearning unlearn.py blindspot_unlearner).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="BadTeacher", temperature=1.0, remain_fraction=0.3, remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=1),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

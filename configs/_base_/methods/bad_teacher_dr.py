# Bad Teacher as published (uses D_r): plus KL to the original on D_r batches of 55 beside
# each forget batch of 128 (30% of the mix).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="BadTeacher", temperature=1.0, remain_dataloader=dict(batch_size=55))
forget = dict(train_cfg=dict(max_epochs=1),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

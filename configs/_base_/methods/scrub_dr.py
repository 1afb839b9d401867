# SCRUB as published (uses D_r): max steps on D_f, min steps on D_r (SGD 5e-4, 3 epochs,
# 2 max epochs, T 4).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SCRUB", temperature=4.0, max_epochs=2, remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=5e-4)))

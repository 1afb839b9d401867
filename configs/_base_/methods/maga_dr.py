# MaGA as published (uses D_r): plus cross-entropy on D_r; matrix estimated from the original
# model's confusions on D_f and 20 D_r batches. tau 0.3, alpha 0.7, lr 3e-4, 3 epochs.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="MaGA", tau=0.3, noise_alpha=0.7, remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=3e-4)))

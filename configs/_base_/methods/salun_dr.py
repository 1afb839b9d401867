# SalUn as published (uses D_r): each epoch the masked Random Label pass over D_f, then a
# masked cross-entropy pass over all of D_r (Unlearn-Saliency unlearn/RL.py) (lr 1.3e-2).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SalUn", ratio=0.5, remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=1.3e-2)))

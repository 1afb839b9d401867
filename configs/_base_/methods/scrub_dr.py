# SCRUB as published (uses D_r): each epoch, max steps over D_f (first 2 epochs), then min
# steps over all of D_r (SGD 5e-4, weight decay 5e-4, 3 epochs, T 4; meghdadk/SCRUB).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SCRUB", temperature=4.0, max_epochs=2, remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=3),
              optim_wrapper=dict(optimizer=dict(lr=5e-4, weight_decay=5e-4)))

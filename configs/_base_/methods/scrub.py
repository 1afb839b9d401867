# SCRUB, forget-only variant: its max steps on D_f alone (SGD 5e-4, weight decay 5e-4, 3 epochs,
# 2 max epochs, T 4). Batch norm trains (norm_eval=False, as the original's student does): with
# frozen statistics the student starts equal to the teacher and the max step's KL gradient is
# exactly zero (measured 1.2e-7 vs 0.14 on a small CNN), so the method would never move.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="SCRUB", temperature=4.0, max_epochs=2, norm_eval=False)
forget = dict(train_cfg=dict(max_epochs=3),
              optim_wrapper=dict(optimizer=dict(lr=5e-4, weight_decay=5e-4)))

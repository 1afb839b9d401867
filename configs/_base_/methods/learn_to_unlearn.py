# Learning to Unlearn (adversarial variant): ascent on D_f + 0.1 CE on targeted L2-PGD
# neighbours (eps 0.4, step 0.1, 10 steps), attack labels drawn anew every batch.
# Forget-set only.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="LearnToUnlearn", eps=0.4, step=0.1, steps=10, adv_weight=0.1)
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=1e-5)))

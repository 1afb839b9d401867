# Random Label: cross-entropy of D_f to a random label drawn from all classes (the true one
# included, as in DELETE's method/random_label.py), fixed per sample. Forget-set only.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="RandomLabel")
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=3e-4)))

# MaGA, forget-only variant; class-similarity matrix estimated from the original model's
# confusions on D_f (set `similarity` to supply one). tau 0.3, alpha 0.7, lr 3e-4, 3 epochs.
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="MaGA", tau=0.3, noise_alpha=0.7)
forget = dict(train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=3e-4)))

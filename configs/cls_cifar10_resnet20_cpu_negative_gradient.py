# Negative Gradient: gradient ascent on D_f's cross-entropy. Forget-set only; very lr-sensitive.
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="NegativeGradient", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True)
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=1e-5)))

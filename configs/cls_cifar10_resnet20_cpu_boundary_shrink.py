# Boundary Shrink: pull D_f to the nearest wrong class (FGSM eps 0.1 on the original model).
# Forget-set only; lr 5e-5 (paper 1e-5, 10 epochs).
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="BoundaryShrink", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True,
             eps=0.1,
             pixel_mean={{_base_.normalize.mean}}, pixel_std={{_base_.normalize.std}})
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=5e-5)))

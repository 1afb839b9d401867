# Amnesiac (uses D_r): D_f relabelled among the remaining classes, trained with D_r (Adam 1e-4,
# 3 epochs).
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="Amnesiac", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True,
             remain_dataloader=dict())
forget = dict(train_cfg=dict(max_epochs=3),
              optim_wrapper=dict(optimizer=dict(_delete_=True, type="Adam", lr=1e-4)))

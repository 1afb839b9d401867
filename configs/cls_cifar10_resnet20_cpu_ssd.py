# Selective Synaptic Dampening (uses D_r: importances over the training data); weight edit.
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="SSD", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True,
             remain_dataloader=dict(), alpha=10.0, dampening=1.0)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

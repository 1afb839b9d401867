# Fisher Forgetting: Fisher-scaled Gaussian noise from D_r (uses D_r); weight edit, no training.
# Settings: ../shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
_base_ = ["./cls_cifar10_resnet20_cpu.py"]
model = dict(_delete_=True, type="FisherForgetting", network={{_base_.network}},
             adapter=dict(type="ClassificationAdapter"), norm_eval=True,
             remain_dataloader=dict(), alpha=1e-7)
forget = dict(train_cfg=dict(max_epochs=0, val_interval=100))

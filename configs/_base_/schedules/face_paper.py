# The paper's face protocol (VGGFace2, ResNet-18, Sec. K.1): batch 64 everywhere, lr fixed at
# 0.01 for pretraining on 100 identities (80 epochs) and for fine-tuning a new 10-way head on
# the other 10 (40 epochs); unlearning 20 epochs. `pretrain` is the supervised stage of a
# config: the 10-identity config fine-tunes with it; the pretraining config sets 80 epochs.
# DELETE's lr is the official CIFAR-10 ResNet-18 value (the paper gives none for faces).
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=40, val_interval=10),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.01, momentum=0.9, weight_decay=5e-4)),
    param_scheduler=[],
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=20, val_interval=5),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=1e-3, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
)

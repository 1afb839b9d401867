# The paper's segmentation protocol (appendix K.3): pretrain 50 epochs SGD lr 0.007 wd 5e-4
# (momentum 0.9 and the poly decay are DeepLabV3+'s usual recipe), unlearn 10 epochs. The
# paper gives no unlearning learning rate: SGD momentum 0.9 without weight decay as in the
# official DELETE code, lr 1e-3 (its CIFAR-10 value).
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=50, val_interval=10),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.007, momentum=0.9, weight_decay=5e-4)),
    # `end` must equal train_cfg.max_epochs.
    param_scheduler=[dict(type="PolyLR", eta_min=0.0, power=0.9, begin=0, end=50,
                          by_epoch=True, convert_to_iter_based=True)],
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=10, val_interval=5),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=1e-3, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
)

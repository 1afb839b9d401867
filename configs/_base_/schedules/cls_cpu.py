# CPU protocol (2 cores, no GPU): one-cycle SGD pretraining and unlearning under bf16 autocast
# (evaluation stays fp32); DELETE with the official optimizer (SGD momentum 0.9, no weight
# decay), lr 3e-3 for the short schedule.
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=20, val_interval=20),
    optim_wrapper=dict(type="BF16OptimWrapper",
                       optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=5e-4,
                                      nesterov=True)),
    # `end` must equal train_cfg.max_epochs (a leaf that changes one changes both).
    param_scheduler=[dict(type="OneCycleLR", eta_max=0.1, begin=0, end=20, by_epoch=True,
                          convert_to_iter_based=True)],
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=2, val_interval=1),
    optim_wrapper=dict(type="BF16OptimWrapper",
                       optimizer=dict(type="SGD", lr=3e-3, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
)

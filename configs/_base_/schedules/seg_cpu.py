# CPU protocol for CamVid (2 cores): the paper's optimizer shape (SGD momentum 0.9, wd 5e-4,
# poly decay) for 24 epochs under bf16 autocast (10-30 min per model at one thread, depending
# on load), checkpoints every 5 epochs for --resume; unlearning: 3 epochs of SGD momentum 0.9
# without weight decay (the official DELETE optimizer), bf16.
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=24, val_interval=8),
    optim_wrapper=dict(type="BF16OptimWrapper",
                       optimizer=dict(type="SGD", lr=0.02, momentum=0.9, weight_decay=5e-4)),
    # `end` must equal train_cfg.max_epochs.
    param_scheduler=[dict(type="PolyLR", eta_min=1e-4, power=0.9, begin=0, end=24,
                          by_epoch=True, convert_to_iter_based=True)],
    default_hooks=dict(checkpoint=dict(type="CheckpointHook", interval=5, max_keep_ckpts=1)),
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=3, val_interval=3),
    optim_wrapper=dict(type="BF16OptimWrapper",
                       optimizer=dict(type="SGD", lr=5e-3, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
)

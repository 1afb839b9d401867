# CPU protocol for the small face sets (Yale B, ORL) at 64x64: one-cycle SGD under bf16 for the
# supervised stages (pretraining on the first identity group, or fine-tuning the 10-identity
# group); DELETE in fp32 with the official optimizer (SGD momentum 0.9, no weight decay), lr
# 3e-4 and 40 epochs (with the datasets' forget_pipeline and T 1) chosen by
# benchmarks/face_sweep.py on validation identities 5 and 9 of Yale B (docs/results/face).
# A leaf that changes train_cfg.max_epochs must change the scheduler's `end` too.
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=30, val_interval=10),
    optim_wrapper=dict(type="BF16OptimWrapper",
                       optimizer=dict(type="SGD", lr=0.05, momentum=0.9, weight_decay=5e-4,
                                      nesterov=True)),
    param_scheduler=[dict(type="OneCycleLR", eta_max=0.05, begin=0, end=30, by_epoch=True,
                          convert_to_iter_based=True)],
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=40, val_interval=10),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=3e-4, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
)

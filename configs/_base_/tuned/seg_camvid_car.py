# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/segmentation/tuning.md). Do not edit by hand.
method_settings = dict(
    # not searched yet: the protocol's own settings
    negative_gradient=dict(forget=dict(train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=0.0001)))),
    random_label=dict(forget=dict(train_cfg=dict(max_epochs=3), optim_wrapper=dict(optimizer=dict(lr=0.001)))),
)

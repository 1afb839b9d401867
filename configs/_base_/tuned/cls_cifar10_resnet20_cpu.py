# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/classification/tuning.md). Do not edit by hand.
method_settings = dict(
    delete=dict(model=dict(norm_eval=True),
        forget=dict(train_cfg=dict(max_epochs=20),
                    optim_wrapper=dict(optimizer=dict(lr=0.0001)))),
)

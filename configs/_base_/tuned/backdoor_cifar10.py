# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/backdoor/tuning.md). Do not edit by hand.
method_settings = dict(
    fineprune=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.1)))),
)
tuned_methods = ['fineprune']

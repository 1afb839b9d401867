# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/backdoor/tuning.md). Do not edit by hand.
method_settings = dict(
    bae_delete=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.001)))),
    nc_delete=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.0031622776601683794)))),
    bae_ng=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.0001)))),
    nc_ng=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=3),
                    optim_wrapper=dict(optimizer=dict(lr=0.00031622776601683794)))),
    finetune=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.1)))),
    fineprune=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.1)))),
    nad=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=10),
                    optim_wrapper=dict(optimizer=dict(lr=0.1)))),
)
tuned_methods = ['bae_delete', 'nc_delete', 'bae_ng', 'nc_ng', 'finetune', 'fineprune', 'nad']

# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/classification/tuning.md). Do not edit by hand.
method_settings = dict(
    delete=dict(model=dict(norm_eval=True),
        forget=dict(train_cfg=dict(max_epochs=20),
                    optim_wrapper=dict(optimizer=dict(lr=0.001)))),
    random_label=dict(model=dict(norm_eval=True),
        forget=dict(train_cfg=dict(max_epochs=5),
                    optim_wrapper=dict(optimizer=dict(lr=1e-05)))),
    negative_gradient=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=20),
                    optim_wrapper=dict(optimizer=dict(lr=1e-05)))),
    boundary_shrink=dict(model=dict(norm_eval=True),
        forget=dict(train_cfg=dict(max_epochs=5),
                    optim_wrapper=dict(optimizer=dict(lr=1e-05)))),
    boundary_expand=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=20),
                    optim_wrapper=dict(optimizer=dict(lr=1e-05)))),
    influence=dict(model=dict(alpha=0.01)),
    bad_teacher=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=20),
                    optim_wrapper=dict(optimizer=dict(lr=1e-06)))),
    scrub=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=5),
                    optim_wrapper=dict(optimizer=dict(lr=0.0001)))),
    fisher=dict(model=dict(alpha=3.1622776601683796e-06)),
)
tuned_methods = ['delete', 'random_label', 'negative_gradient', 'boundary_shrink', 'boundary_expand', 'influence', 'bad_teacher', 'scrub', 'fisher']

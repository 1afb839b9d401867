# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/face/tuning.md). Do not edit by hand.
method_settings = dict(
    delete=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=40),
                    optim_wrapper=dict(optimizer=dict(lr=0.00031622776601683794)))),
    random_label=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=40),
                    optim_wrapper=dict(optimizer=dict(lr=0.00031622776601683794)))),
    negative_gradient=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=40),
                    optim_wrapper=dict(optimizer=dict(lr=3.1622776601683795e-05)))),
    boundary_shrink=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=40),
                    optim_wrapper=dict(optimizer=dict(lr=0.001)))),
    boundary_expand=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=40),
                    optim_wrapper=dict(optimizer=dict(lr=0.0031622776601683794)))),
    influence=dict(model=dict(alpha=0.01)),
    bad_teacher=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=40),
                    optim_wrapper=dict(optimizer=dict(lr=3.1622776601683795e-05)))),
)

# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/segmentation/tuning.md). Do not edit by hand.
method_settings = dict(
    delete=dict(model=dict(norm_eval=True),
        forget=dict(train_cfg=dict(max_epochs=3),
                    optim_wrapper=dict(optimizer=dict(lr=0.0031622776601683794)))),
    negative_gradient=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=1),
                    optim_wrapper=dict(optimizer=dict(lr=3.1622776601683795e-05)))),
    random_label=dict(model=dict(norm_eval=False),
        forget=dict(train_cfg=dict(max_epochs=3),
                    optim_wrapper=dict(optimizer=dict(lr=0.0031622776601683794)))),
)
tuned_methods = ['delete', 'negative_gradient', 'random_label']

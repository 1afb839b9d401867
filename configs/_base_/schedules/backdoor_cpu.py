# CPU protocol for the backdoor task: the poisoned model trains 8 epochs one-cycle SGD under
# bf16 autocast; unlearning/defenses run in fp32 on the defender's 2,500 held-out images.
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=8, val_interval=8),
    optim_wrapper=dict(type="BF16OptimWrapper",
                       optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=5e-4,
                                      nesterov=True)),
    param_scheduler=[dict(type="OneCycleLR", eta_max=0.1, begin=0, end=8, by_epoch=True,
                          convert_to_iter_based=True)],
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=4, val_interval=1000),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=1e-2, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
    # no validation during unlearning (mmengine validates at the last epoch anyway): the test
    # loop evaluates the result once
    val_dataloader=None, val_cfg=None, val_evaluator=None,
)
# Detection/recovery on the defender's held-out images. BAERASER: the paper's 10 epochs of
# batch 128 (200 steps on 2,500 images) with Adam lr 1e-3 instead of 2e-4 (a CPU-sized model
# trained 8 epochs; 2e-4 was not tried here).
defense = dict(
    recover="baeraser",
    neural_cleanse=dict(steps=100, batch_size=64, lr=0.1, init_cost=1e-3,
                        anomaly_threshold=2.0),
    baeraser=dict(patch_size="auto", epochs=10, batch_size=128, beta=0.5, alpha=0.1, lr=1e-3),
)

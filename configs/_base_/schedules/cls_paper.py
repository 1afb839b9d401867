# The paper's classification protocol: pretrain 150 epochs SGD lr 0.1 wd 5e-4 momentum 0.9,
# StepLR(40, 0.1), batch 128; DELETE 20 epochs SGD lr 1e-3 momentum 0.9 no wd, batch 128,
# last epoch kept (official implementation shaaaaron/DELETE).
pretrain = dict(
    train_cfg=dict(by_epoch=True, max_epochs=150, val_interval=10),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=0.1, momentum=0.9, weight_decay=5e-4)),
    param_scheduler=[dict(type="StepLR", step_size=40, gamma=0.1, by_epoch=True)],
)
forget = dict(
    train_cfg=dict(by_epoch=True, max_epochs=20, val_interval=5),
    optim_wrapper=dict(optimizer=dict(type="SGD", lr=1e-3, momentum=0.9, weight_decay=0.0)),
    param_scheduler=[],
)

# Recovery + NG (BAERASER's own unlearning): bounded gradient ascent on the target label of
# held-out images stamped with the BAERASER-recovered trigger.
_base_ = ["./backdoor_cifar10_k3.py"]
model = dict(type="BackdoorNG", max_loss=2.3026)
defense_name = "bae_ng"
forget = dict(train_cfg=dict(max_epochs=2),
              optim_wrapper=dict(optimizer=dict(lr=5e-3)))

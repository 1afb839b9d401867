# Baseline: fine-tune on the defender's clean held-out images (no trigger recovery).
_base_ = ["./backdoor_cifar10_k3.py"]
model = dict(type="CleanFineTune")
defense = dict(recover=None)
defense_name = "finetune"
forget_dataloader = dict(dataset=dict(mode="clean"))
forget = dict(train_cfg=dict(max_epochs=10))

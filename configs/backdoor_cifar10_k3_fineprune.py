# Baseline: Fine-Pruning (prune last-conv channels by clean activation, then fine-tune).
_base_ = ["./backdoor_cifar10_k3_finetune.py"]
model = dict(type="FinePruning", max_acc_drop=4.0, prune_step=0.05)
defense_name = "fineprune"

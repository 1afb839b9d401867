# Neural Cleanse's mask and pattern (the flagged label's) as the recovered trigger, then NG.
_base_ = ["./backdoor_cifar10_k3_ng.py"]
defense = dict(recover="neural_cleanse")
defense_name = "nc_ng"
run_suffix = "_nc"

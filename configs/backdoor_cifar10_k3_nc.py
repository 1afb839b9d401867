# Neural Cleanse's mask and pattern (the flagged label's) as the recovered trigger, then DELETE.
_base_ = ["./backdoor_cifar10_k3.py"]
defense = dict(recover="neural_cleanse")
defense_name = "nc_delete"
run_suffix = "_nc"

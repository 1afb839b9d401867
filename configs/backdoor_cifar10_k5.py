# As backdoor_cifar10_k3.py with a 5x5 trigger.
_base_ = ["./backdoor_cifar10_k3.py"]
experiment = "backdoor_cifar10_k5"
attack = dict(trigger_size=5)

# As backdoor_cifar10_k3.py with a 7x7 trigger.
_base_ = ["./backdoor_cifar10_k3.py"]
experiment = "backdoor_cifar10_k7"
attack = dict(trigger_size=7)

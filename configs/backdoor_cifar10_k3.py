# Backdoor defense on real CIFAR-10 (CPU protocol): a small CNN poisoned by BadNets (5% of the
# training images, random 3x3 trigger at random positions, target 'airplane'); defend.py
# detects the backdoor with Neural Cleanse, recovers the trigger with BAERASER and unlearns it
# with DELETE on the defender's 2,500 clean held-out test images.
_base_ = ["./_base_/datasets/cifar10_badnets.py", "./_base_/schedules/backdoor_cpu.py",
          "./_base_/default_runtime.py",
          # each defense's selected setting, by defense_name (benchmarks/tuning.py --protocol
          # backdoor: tuned on the 5x5 model; empty until searched)
          "./_base_/tuned/backdoor_cifar10.py"]
experiment = "backdoor_cifar10_k3"
attack = dict(trigger_size=3)
network = dict(type="small_cnn", num_classes=10, width=32)
model = dict(type="DELETE", network=network, adapter=dict(type="BackdoorAdapter"))
defense_name = "bae_delete"
# TrainTimeHook first: NAD's teacher fine-tuning and Fine-Pruning's pruning search (run in
# UnlearningSetupHook) count in the reported defense time.
custom_hooks = [dict(type="TrainTimeHook"), dict(type="UnlearningSetupHook"),
                dict(type="FiniteLossHook")]

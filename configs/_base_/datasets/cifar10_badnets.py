# BadNets on CIFAR-10 (image-folder layout). `attack` is copied by the tools into every dict
# that has an `attack` key; forget_classes and the metric's target follow attack.target.
# The test split is cut in two (seeded): a quarter is the defender's clean held-out set, the
# rest measures clean Acc and ASR.
_base_ = ["./cifar10.py"]
attack = dict(trigger_size=3, target=0, poison_rate=0.05, seed=0)
forget_classes = [0]
_split = dict(holdout_fraction=0.25, holdout_seed=0)
_test = dict(type="ImageFolderClassification", root="cifar10", split="test")
train_dataloader = dict(dataset=dict(
    _delete_=True, type="BackdoorDataset", mode="poison", attack=attack,
    dataset=dict(type="ImageFolderClassification", root="cifar10", split="train",
                 pipeline={{_base_.train_pipeline}})))
eval_dataset = dict(_delete_=True, type="BackdoorDataset", mode="eval", attack=attack,
                    holdout="eval", dataset=dict(_test, pipeline={{_base_.test_pipeline}}),
                    **_split)
val_dataloader = dict(dataset=eval_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(_delete_=True, type="BackdoorMetric", target=0)
test_evaluator = val_evaluator
# The defender's data: clean held-out images (recovery reads them without the pipeline), and
# the same images plus copies stamped with the recovered trigger (`trigger` set by defend.py).
defense_dataset = dict(type="BackdoorDataset", mode="clean", attack=attack, holdout="defense",
                       dataset=dict(_test, pipeline=None), **_split)
forget_dataloader = dict(dataset=dict(
    _delete_=True, type="BackdoorDataset", mode="stamp", attack=attack, holdout="defense",
    trigger=None, dataset=dict(_test, pipeline={{_base_.train_pipeline}}), **_split))

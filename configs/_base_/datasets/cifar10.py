# CIFAR-10 from the image-folder layout ('cifar10' = the bundled JPEG copy, found via
# TASKFORGET_DATA or unpacked from ../shared/data). For torchvision's layout use
# dataset_type = 'TorchvisionCIFAR' with root=... and download=True.
dataset_type = "ImageFolderClassification"
data_root = "cifar10"
class_names = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
               "truck")
num_classes = 10
forget_classes = ["airplane"]
normalize = dict(type="Normalize", mean=(0.4914, 0.4822, 0.4465), std=(0.2470, 0.2435, 0.2616))
train_pipeline = [
    dict(type="PadIfNeeded", min_height=40, min_width=40, border_mode=0),
    dict(type="RandomCrop", height=32, width=32),
    dict(type="HorizontalFlip"),
    normalize,
    dict(type="ToTensorV2"),
]
test_pipeline = [normalize, dict(type="ToTensorV2")]

_loader = dict(num_workers=0, collate_fn=dict(type="default_collate"))
train_dataloader = dict(
    batch_size=128, sampler=dict(type="DefaultSampler", shuffle=True), **_loader,
    dataset=dict(type=dataset_type, root=data_root, split="train", subset="all",
                 forget_classes=forget_classes, pipeline=train_pipeline))
# The forget set D_f (training images of the forgotten classes); DELETE's official code
# augments it like the training set.
forget_dataloader = dict(
    batch_size=128, sampler=dict(type="DefaultSampler", shuffle=True), **_loader,
    dataset=dict(type=dataset_type, root=data_root, split="train", subset="forget",
                 forget_classes=forget_classes, pipeline=train_pipeline))
# Evaluation: training and test images with test-time transforms (Acc_f/Acc_r/Acc_ft/Acc_rt).
eval_dataset = dict(type=dataset_type, root=data_root, split=["train", "test"], subset="all",
                    forget_classes=forget_classes, pipeline=test_pipeline)
val_dataloader = dict(batch_size=512, sampler=dict(type="DefaultSampler", shuffle=False),
                      **_loader, dataset=eval_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type="UnlearningMetric", mia=False)
test_evaluator = dict(type="UnlearningMetric", mia=True)
val_cfg = dict()
test_cfg = dict()

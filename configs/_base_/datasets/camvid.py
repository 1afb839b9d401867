# CamVid (SegNet's 11 classes; 'camvid' = the bundled 240x180 copy via TASKFORGET_DATA or
# ../shared/data). Void (11) is read as 255 = ignore. Training: random scale 0.75-1.25, 128x176
# crops (multiples of 16), flips; evaluation on the full 180x240 val images (the network pads
# to a multiple of 16 and crops its logits back).
dataset_type = "CamVid"
data_root = "camvid"
class_names = ("sky", "building", "pole", "road", "pavement", "tree", "signsymbol", "fence",
               "car", "pedestrian", "bicyclist")
num_classes = 11
forget_classes = ["car"]
crop_size = (128, 176)
normalize = dict(type="Normalize", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
train_pipeline = [
    dict(type="RandomScale", scale_limit=(-0.25, 0.25), p=1.0),
    dict(type="PadIfNeeded", min_height=crop_size[0], min_width=crop_size[1], border_mode=0,
         fill=0, fill_mask=255),
    dict(type="RandomCrop", height=crop_size[0], width=crop_size[1]),
    dict(type="HorizontalFlip"),
    normalize,
    dict(type="ToTensorV2"),
]
test_pipeline = [normalize, dict(type="ToTensorV2")]

_loader = dict(num_workers=0, collate_fn=dict(type="default_collate"))
train_dataloader = dict(
    batch_size=8, sampler=dict(type="DefaultSampler", shuffle=True), **_loader,
    dataset=dict(type=dataset_type, root=data_root, split="train", subset="all",
                 forget_classes=forget_classes, pipeline=train_pipeline))
# The forget set D_f: the training images that contain a forgotten class (all labels kept).
forget_dataloader = dict(
    batch_size=8, sampler=dict(type="DefaultSampler", shuffle=True), **_loader,
    dataset=dict(type=dataset_type, root=data_root, split="train", subset="forget",
                 forget_classes=forget_classes, pipeline=train_pipeline))
eval_dataset = dict(type=dataset_type, root=data_root, split="val", subset="all",
                    forget_classes=forget_classes, pipeline=test_pipeline)
val_dataloader = dict(batch_size=8, sampler=dict(type="DefaultSampler", shuffle=False),
                      **_loader, dataset=eval_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type="SegUnlearningMetric", forget_classes=forget_classes)
test_evaluator = val_evaluator
val_cfg = dict()
test_cfg = dict()

# PASCAL VOC 2012 segmentation in its standard layout under TASKFORGET_DATA (or an absolute
# path): VOCdevkit/VOC2012/{JPEGImages,SegmentationClass,ImageSets/Segmentation}. 21 classes,
# 255 = ignore. Training: random scale 0.5-2.0, 512x512 crops, flips; evaluation on whole val
# images (batch 1: sizes differ; the network pads to a multiple of 16).
dataset_type = "PascalVOC"
data_root = "VOCdevkit/VOC2012"
class_names = ("background", "aeroplane", "bicycle", "bird", "boat", "bottle", "bus", "car",
               "cat", "chair", "cow", "diningtable", "dog", "horse", "motorbike", "person",
               "pottedplant", "sheep", "sofa", "train", "tvmonitor")
num_classes = 21
forget_classes = ["car"]
crop_size = (512, 512)
normalize = dict(type="Normalize", mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
train_pipeline = [
    dict(type="RandomScale", scale_limit=(-0.5, 1.0), p=1.0),
    dict(type="PadIfNeeded", min_height=crop_size[0], min_width=crop_size[1], border_mode=0,
         fill=0, fill_mask=255),
    dict(type="RandomCrop", height=crop_size[0], width=crop_size[1]),
    dict(type="HorizontalFlip"),
    normalize,
    dict(type="ToTensorV2"),
]
test_pipeline = [normalize, dict(type="ToTensorV2")]

_loader = dict(num_workers=4, collate_fn=dict(type="default_collate"))
train_dataloader = dict(
    batch_size=16, sampler=dict(type="DefaultSampler", shuffle=True), **_loader,
    dataset=dict(type=dataset_type, root=data_root, split="train", subset="all",
                 forget_classes=forget_classes, pipeline=train_pipeline))
forget_dataloader = dict(
    batch_size=16, sampler=dict(type="DefaultSampler", shuffle=True), **_loader,
    dataset=dict(type=dataset_type, root=data_root, split="train", subset="forget",
                 forget_classes=forget_classes, pipeline=train_pipeline))
eval_dataset = dict(type=dataset_type, root=data_root, split="val", subset="all",
                    forget_classes=forget_classes, pipeline=test_pipeline)
val_dataloader = dict(batch_size=1, sampler=dict(type="DefaultSampler", shuffle=False),
                      **_loader, dataset=eval_dataset)
test_dataloader = val_dataloader
val_evaluator = dict(type="SegUnlearningMetric", forget_classes=forget_classes)
test_evaluator = val_evaluator
val_cfg = dict()
test_cfg = dict()

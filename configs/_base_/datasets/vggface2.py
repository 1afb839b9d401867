# VGGFace2 (standard layout <root>/{train,test}/<identity>/*.jpg) with the paper's selection:
# identities with more than 500 images, 110 drawn (identity_seed 0): 100 pretraining + 10
# target; 400 train / 100 test images each (seeded). MTCNN crops at 128 px (margin 14; no-face
# images keep a centre crop and are reported), random 112 px crops + flips for training.
_base_ = ["./yaleb.py"]
dataset_type = "VGGFace2"
data_root = "vggface2"
img_size = 112
normalize = dict(type="Normalize", mean=(0.5, 0.5, 0.5), std=(0.5, 0.5, 0.5))
train_pipeline = [dict(type="RandomCrop", height=img_size, width=img_size),
                  dict(type="HorizontalFlip"), normalize, dict(type="ToTensorV2")]
test_pipeline = [dict(type="CenterCrop", height=img_size, width=img_size), normalize,
                 dict(type="ToTensorV2")]
_data = dict(_delete_=True, type=dataset_type, root=data_root, group="target", num_target=10,
             identity_seed=0, split_seed=0, forget_classes=[0],
             detect=dict(image_size=128, margin=14, no_face="center"))
train_dataloader = dict(dataset=dict(_data, split="train", subset="all",
                                     pipeline=train_pipeline))
forget_dataloader = dict(batch_size=64, dataset=dict(_data, split="train", subset="forget",
                                                     pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(_data, split=["train", "test"], subset="all",
                                   pipeline=test_pipeline))
test_dataloader = val_dataloader

# The paper's segmentation protocol (Table S14 / Fig. 6): forget 'car' from DeepLabV3+
# (ResNet-50, from scratch) on PASCAL VOC 2012; pretrain 50 epochs SGD lr 0.007 wd 5e-4,
# DELETE 10 epochs. Needs VOC 2012 on disk and a GPU.
_base_ = ["./_base_/datasets/voc.py", "./_base_/models/deeplabv3plus_r50.py",
          "./_base_/schedules/seg_paper.py", "./_base_/default_runtime.py"]
experiment = "seg_voc_car"
model = dict(network={{_base_.network}},
             adapter=dict(type="SegmentationAdapter", mask_scope="all"))
method = "delete"  # configs/_base_/methods/<name>.py; --method NAME picks another one

# The paper's CIFAR-10 protocol (Table 1): ResNet-18, pretrain 150 epochs, DELETE lr 1e-3 for
# 20 epochs, forget 'airplane'. Needs a GPU for pretraining (about 19 min/epoch on 2 CPU cores).
_base_ = ["./_base_/datasets/cifar10.py", "./_base_/models/resnet18_cifar.py",
          "./_base_/schedules/cls_paper.py", "./_base_/default_runtime.py"]
experiment = "cls_cifar10_resnet18"
model = dict(network={{_base_.network}}, adapter=dict(type="ClassificationAdapter"))
method = "delete"  # configs/_base_/methods/<name>.py; --method NAME picks another one

# CPU protocol on the full real CIFAR-10: ResNet-20, 10 one-cycle pretraining epochs under bf16
# (about 10 min each for the original and the retrain model on 2 idle cores), DELETE on the
# un-augmented forget set (teacher logits cached) for 2 epochs with batch-norm statistics frozen
# (norm_eval: one-class forget batches otherwise drag them away; see docs/results). Evaluation
# uses 1000 training images per class and the full test set.
_base_ = ["./_base_/datasets/cifar10.py", "./_base_/models/resnet20.py",
          "./_base_/schedules/cls_cpu.py", "./_base_/default_runtime.py"]
experiment = "cls_cifar10_resnet20_cpu"
model = dict(network={{_base_.network}}, adapter=dict(type="ClassificationAdapter"))
# the method (configs/_base_/methods/<name>.py; --method NAME picks another one)
method = "delete"
method_defaults = dict(norm_eval=True)
# 256 single-sample gradients fit this protocol's small network (the fragment's 100: ResNet-18)
method_settings = dict(influence=dict(model=dict(num_samples=256)),
                       influence_dr=dict(model=dict(num_samples=256)))
forget_dataloader = dict(dataset=dict(pipeline={{_base_.test_pipeline}}))
val_dataloader = dict(dataset=dict(max_per_class=1000))
test_dataloader = dict(dataset=dict(max_per_class=1000))

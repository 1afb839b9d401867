# Forget identity 0 of the 10-identity group of Extended Yale B (the paper's face protocol
# shape, runs on 2 CPU cores in minutes): ResNet-18 at 64x64; its encoder comes from
# configs/face_yaleb_pretrain.py (28 other identities), a new 10-way head is fine-tuned (the
# "original" model), then DELETE. Retrain = the same fine-tuning without identity 0.
_base_ = ["./_base_/datasets/yaleb.py", "./_base_/schedules/face_cpu.py",
          "./_base_/default_runtime.py",
          # each method's selected setting on identities 5 and 9 (benchmarks/tuning.py
          # --protocol face_yaleb; empty until searched)
          "./_base_/tuned/face_yaleb_id0.py"]
experiment = "face_yaleb"
pretrained_encoder = "work_dirs/face_yaleb_pretrain/original.pth"
network = dict(type="resnet18_face", num_classes=10)
# norm_eval: batch-norm statistics stay the original model's while unlearning from one
# person's ~50 images, for a method with no selected setting; the tuning searches the mode for
# every method (each tuned method on Yale B selected train mode: docs/results/face/tuning.md).
model = dict(network=network, adapter=dict(type="ClassificationAdapter"))
method = "delete"  # configs/_base_/methods/<name>.py; --method NAME picks another one
method_defaults = dict(norm_eval=True)
# Fine-tuning: the paper's fixed lr 0.01 (SGD momentum 0.9, wd 5e-4), 15 epochs, bf16.
pretrain = dict(model=dict(network=dict(init_encoder=pretrained_encoder)),
                train_cfg=dict(max_epochs=15, val_interval=5),
                optim_wrapper=dict(optimizer=dict(lr=0.01, nesterov=False)), param_scheduler=[])

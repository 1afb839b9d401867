# Forget identity 0 of ORL's 10-identity group: MTCNN crops at 64x64, ResNet-18 whose encoder
# comes from configs/face_orl_pretrain.py (the 30 other identities); CPU, minutes.
_base_ = ["./_base_/datasets/orl.py", "./_base_/schedules/face_cpu.py",
          "./_base_/default_runtime.py"]
experiment = "face_orl"
network = dict(type="resnet18_face", num_classes=10)
model = dict(network=network, adapter=dict(type="ClassificationAdapter"))
method = "delete"  # configs/_base_/methods/<name>.py; --method NAME picks another one
method_defaults = dict(norm_eval=True)
pretrain = dict(model=dict(network=dict(init_encoder="work_dirs/face_orl_pretrain/original.pth")),
                train_cfg=dict(max_epochs=15, val_interval=5),
                param_scheduler=[dict(type="OneCycleLR", eta_max=0.05, begin=0, end=15,
                                      by_epoch=True, convert_to_iter_based=True)])

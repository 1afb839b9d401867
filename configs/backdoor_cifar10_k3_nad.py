# Baseline: NAD (fine-tuned teacher, then attention distillation into the backdoored model).
_base_ = ["./backdoor_cifar10_k3_finetune.py"]
model = dict(type="NAD", teacher_epochs=5, teacher_lr=0.01, betas=(500.0, 1000.0, 1000.0))
defense_name = "nad"

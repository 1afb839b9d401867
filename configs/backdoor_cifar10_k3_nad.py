# Baseline: NAD (fine-tuned teacher, then attention distillation into the backdoored model).
# As the official code (github.com/bboylyg/NAD, main.py and utils/util.py): teacher and student
# train with SGD momentum 0.9, nesterov, weight decay 1e-4, the lr dropping to a tenth after two
# epochs; the teacher starts at 0.1, the student's initial lr is the tuning's.
_base_ = ["./backdoor_cifar10_k3_finetune.py"]
model = dict(type="NAD", teacher_epochs=5, teacher_lr=0.1, teacher_milestones=(2,),
             betas=(500.0, 1000.0, 1000.0))
defense_name = "nad"
forget = dict(
    optim_wrapper=dict(optimizer=dict(weight_decay=1e-4, nesterov=True)),
    param_scheduler=[dict(type="MultiStepLR", milestones=[2], gamma=0.1, by_epoch=True)])

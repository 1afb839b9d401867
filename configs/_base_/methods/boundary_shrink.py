# Boundary Shrink: pull D_f to the nearest wrong class (FGSM eps 0.1 on the original model).
# The adversarial image is rounded to 1/255 and the target is its plain argmax. Forget-set
# only; lr 5e-5 (paper 1e-5, 10 epochs).
# Settings: shared/methods.md (the DELETE authors' recommended CIFAR-10 settings).
model = dict(type="BoundaryShrink", eps=0.1)
forget = dict(train_cfg=dict(max_epochs=20), optim_wrapper=dict(optimizer=dict(lr=5e-5)))

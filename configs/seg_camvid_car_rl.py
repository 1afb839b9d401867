# Random Label (Table S14's RL): 'car' pixels relabelled to a random other class, fixed per
# image and pixel, and cross-entropy on the forget images (the shared RandomLabel).
_base_ = ["./seg_camvid_car.py"]
model = dict(_delete_=True, type="RandomLabel", network={{_base_.network}},
             adapter=dict(type="SegmentationAdapter"), label_seed=0)
forget = dict(optim_wrapper=dict(optimizer=dict(lr=1e-3)))

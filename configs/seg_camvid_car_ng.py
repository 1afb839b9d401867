# Negative Gradient on the 'car' pixels of the forget set (Table S14's NG baseline): gradient
# ascent on their cross-entropy (the shared pixel-agnostic NegativeGradient).
_base_ = ["./seg_camvid_car.py"]
model = dict(_delete_=True, type="NegativeGradient", network={{_base_.network}},
             adapter=dict(type="SegmentationAdapter"))
forget = dict(optim_wrapper=dict(optimizer=dict(lr=1e-4)))

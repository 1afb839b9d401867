# CPU protocol on real CamVid: forget 'car' (pixel-level DELETE, class masked at every pixel)
# from a DeepLabV3+ ResNet-18 trained from scratch 24 epochs on 128x176 crops (original and
# retrain 10-30 min each on one core). Evaluation: the 101 val images at full 180x240.
_base_ = ["./_base_/datasets/camvid.py", "./_base_/models/deeplabv3plus_r18.py",
          "./_base_/schedules/seg_cpu.py", "./_base_/default_runtime.py",
          # each method's selected setting on pedestrian (benchmarks/tuning.py --protocol
          # seg_camvid); until searched, the baselines' own schedules (Table S14: 3 epochs,
          # NG lr 1e-4, RL lr 1e-3)
          "./_base_/tuned/seg_camvid_car.py"]
experiment = "seg_camvid_car"
model = dict(network={{_base_.network}},
             adapter=dict(type="SegmentationAdapter", mask_scope="all"))
method = "delete"  # configs/_base_/methods/<name>.py; --method NAME picks another one
# merged over the tuned settings (a schedule set here would override the tuning's)
method_settings = dict(random_label=dict(model=dict(label_seed=0)))

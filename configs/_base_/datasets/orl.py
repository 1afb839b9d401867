# ORL / AT&T faces (40 identities x 10 images, 92x112 grey, with background): 30 pretraining +
# 10 target identities (identity_seed 0), per identity 8 train / 2 test (seeded). Faces are
# detected and cropped with MTCNN (cached under work_dirs/face_crops; images without a detected
# face keep a centre crop and are listed in the cache's report.json). Loaders as in yaleb.py.
_base_ = ["./yaleb.py"]
data_root = "orl"
_orl = dict(dataset=dict(root=data_root, num_test=2, detect=dict(_delete_=True,
    image_size=72, margin=8, no_face="center")))
train_dataloader = _orl
forget_dataloader = _orl
val_dataloader = _orl
test_dataloader = _orl

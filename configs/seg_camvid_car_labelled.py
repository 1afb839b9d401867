# DELETE with the forgotten class masked only at the pixels labelled 'car' (elsewhere the
# student distils the unmasked teacher); compare with seg_camvid_car.py (every pixel).
_base_ = ["./seg_camvid_car.py"]
model = dict(adapter=dict(mask_scope="labelled"))
run_suffix = "_labelled"

# DELETE (Zhou et al., CVPR 2025): distil the frozen original's forget-set predictions with the
# forgotten classes masked out (temperature 1, alpha 0). Forget-set only. Its schedule is the
# protocol's own `forget` (paper: SGD lr 1e-3, 20 epochs; CPU protocols: their tuned settings).
model = dict(type="DELETE", temperature=1.0, alpha=0.0)

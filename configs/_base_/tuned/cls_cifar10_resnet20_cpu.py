# Written by benchmarks/tuning.py: each method's selected setting on the validation
# classes (docs/results/classification/tuning.md). Do not edit by hand.
method_settings = dict()
tuned_methods = []

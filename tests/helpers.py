"""Small shared pieces of the tests."""
CIFAR_PIPELINE = [dict(type="Normalize", mean=(0.5, 0.5, 0.5), std=(0.25, 0.25, 0.25)),
                  dict(type="ToTensorV2")]

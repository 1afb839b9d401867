network = dict(type="resnet20", num_classes=10)

network = dict(type="resnet18_cifar", num_classes=10)

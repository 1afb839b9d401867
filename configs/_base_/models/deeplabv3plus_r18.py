# CPU-sized DeepLabV3+: ResNet-18 encoder (12.3 M parameters), randomly initialized.
network = dict(type="deeplabv3plus", num_classes=11, encoder_name="resnet18",
               encoder_weights=None)

# The paper's segmentation network: DeepLabV3+ with a ResNet-50 encoder, randomly initialized.
network = dict(type="deeplabv3plus", num_classes=21, encoder_name="resnet50",
               encoder_weights=None)

"""Face recognition: forget a person (VGGFace2 protocol; Extended Yale B and ORL data)."""
from .datasets import (
                       FaceFolder,
                       FaceIdentityDataset,
                       VGGFace2,
                       identity_class_names,
                       select_identities,
                       split_images,
)
from .detection import FaceCropReport, crop_faces
from .metrics import FaceUnlearningMetric, identity_table, per_identity_accuracy
from .models import gradcam_layer, inception_resnet_v1, load_encoder, resnet18_face

__all__ = ["FaceFolder", "FaceIdentityDataset", "VGGFace2", "identity_class_names",
           "select_identities", "split_images",
           "FaceCropReport", "crop_faces", "FaceUnlearningMetric", "identity_table",
           "per_identity_accuracy",
           "gradcam_layer", "inception_resnet_v1", "load_encoder", "resnet18_face"]

from .masked_distillation import MaskedDistillationLoss, masked_distillation_loss, masked_target

__all__ = ["MaskedDistillationLoss", "masked_distillation_loss", "masked_target"]

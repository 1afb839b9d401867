"""Task adapters: classification, face recognition, backdoor defense, segmentation."""

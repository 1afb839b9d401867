"""Overlay figure of segmentation predictions (paper Fig. 6 / S8): image, ground truth and

Same as ``taskforget seg-overlay ...``; the code is in taskforget/commands/seg_overlay.py.
"""
from taskforget.commands.seg_overlay import main

if __name__ == "__main__":
    main()

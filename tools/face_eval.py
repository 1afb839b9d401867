"""Evaluate face-recognition checkpoints beside the original model: Acc_f, Acc_r, Acc_ft,

Same as ``taskforget face-eval ...``; the code is in taskforget/commands/face_eval.py.
"""
from taskforget.commands.face_eval import main

if __name__ == "__main__":
    main()

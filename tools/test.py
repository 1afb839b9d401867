"""Evaluate any checkpoint (original, retrain, unlearned) beside the original model: Acc_f,

Same as ``taskforget test ...``; the code is in taskforget/commands/test.py.
"""
from taskforget.commands.test import main

if __name__ == "__main__":
    main()

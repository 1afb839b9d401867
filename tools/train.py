"""Train the original model of an experiment, or with --retrain the gold-standard model

Same as ``taskforget train ...``; the code is in taskforget/commands/train.py.
"""
from taskforget.commands.train import main

if __name__ == "__main__":
    main()

"""End-to-end demo: train (or reuse) the original and retrain models, forget with DELETE, and

Same as ``taskforget demo ...``; the code is in taskforget/commands/demo.py.
"""
from taskforget.commands.demo import main

if __name__ == "__main__":
    main()

"""Audit a checkpoint's forgetting beside the retrain model.

Same as ``taskforget audit ...``; the code is in taskforget/commands/audit.py.
"""
from taskforget.commands.audit import main

if __name__ == "__main__":
    main()

"""Unlearn the config's forget classes from the original model with the config's method.

Same as ``taskforget forget ...``; the code is in taskforget/commands/forget.py.
"""
from taskforget.commands.forget import main

if __name__ == "__main__":
    main()

"""Find and remove a backdoor from a model without knowing its trigger.

Same as ``taskforget defend ...``; the code is in taskforget/commands/defend.py.
"""
from taskforget.commands.defend import main

if __name__ == "__main__":
    main()

"""Train a BadNets-poisoned model (the attack the backdoor defense is tested on).

Same as ``taskforget poison ...``; the code is in taskforget/commands/poison.py.
"""
from taskforget.commands.poison import main

if __name__ == "__main__":
    main()

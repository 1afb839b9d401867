"""The command-line tools: ``taskforget <command>``, ``python -m taskforget <command>`` or
``python tools/<command>.py`` (thin wrappers in the source tree)."""

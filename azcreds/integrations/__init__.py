"""Integrations of azcreds into other tools, each behind its own extra (``pip install 'azcreds[NAME]'``)."""

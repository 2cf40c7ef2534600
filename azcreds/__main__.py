"""``python -m azcreds``: the same as the ``azcreds`` command."""

from azcreds.cli import main

raise SystemExit(main())

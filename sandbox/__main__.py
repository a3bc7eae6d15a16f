"""Entry point: ``python -m sandbox <command>`` (see ``sandbox.cli``)."""

import sys

from sandbox.cli import main

sys.exit(main())

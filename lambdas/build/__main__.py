"""``python -m lambdas.build`` (see lambdas/build/__init__.py)."""

import sys

from lambdas.build.cli import main

sys.exit(main())

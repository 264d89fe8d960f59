"""``python -m nuextract_async.cli``: the same as the ``nuextract`` command."""

import sys

from . import main

sys.exit(main())

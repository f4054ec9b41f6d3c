"""`python -m postdesk`: the same as the `postdesk` command."""

import sys

from postdesk.cli import main

sys.exit(main())

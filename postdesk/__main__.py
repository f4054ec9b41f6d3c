"""`python -m postdesk`: the same as the `postdesk` command."""

import sys

from postdesk.cli.main import main

# The guard matters: processes started by multiprocessing (spawn, forkserver) import the
# main module again, and must not run the command a second time.
if __name__ == "__main__":
    sys.exit(main())

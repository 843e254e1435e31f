"""`python -m lanterne` behaves like the `lanterne` command (used by the frozen app and tests)."""

import sys

from lanterne.launch import main

if __name__ == "__main__":
    sys.exit(main())

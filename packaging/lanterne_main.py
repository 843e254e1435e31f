"""The frozen app's entry script: the same launcher as the installed `lanterne` command."""

import sys

from lanterne.launch import main

if __name__ == "__main__":
    sys.exit(main())

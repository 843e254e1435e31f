"""The frozen app's entry script: the same launcher as the installed commands. `gui` is `main`
when there is a console (`lanterne.exe`, the Linux and macOS executables); `lanterne-gui.exe`
has none, and `gui` then shows start-up errors instead of losing them."""

import sys

from lanterne.launch import gui

if __name__ == "__main__":
    sys.exit(gui())

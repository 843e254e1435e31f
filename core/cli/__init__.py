"""The `lanterne` command: a thin layer over the library; no Qt unless the GUI is asked for."""

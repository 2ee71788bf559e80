"""The baseline: a plain crhelper handler with crhelper's default settings (see ``index.py``)."""

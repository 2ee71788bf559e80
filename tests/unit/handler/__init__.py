"""Unit tests of the provider handler (``lambda/``)."""

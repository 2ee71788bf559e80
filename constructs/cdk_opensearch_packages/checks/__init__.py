"""Synth-time checks, pure Python: no aws_cdk import, so they run and test without jsii.

One module per subject: :mod:`.props` (construct properties), :mod:`.files` (a local package file,
by type), :mod:`.text` (TXT-DICTIONARY bytes and encoding), :mod:`.synonyms`, :mod:`.stop_words`,
:mod:`.plugin_zip` (ZIP-PLUGIN archives), :mod:`.java_properties`
(``plugin-descriptor.properties``),
:mod:`.lines` (Java's line handling), :mod:`.findings` (what a check reports).
"""

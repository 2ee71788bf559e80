"""Synth-time checks, pure Python: no aws_cdk import, so they run and test without jsii.

One module per subject: :mod:`.props` (construct properties), :mod:`.files` (a local package file,
by type), :mod:`.text` (TXT-DICTIONARY bytes and encoding), :mod:`.synonyms`, :mod:`.stop_words`,
:mod:`.plugin_zip` (ZIP-PLUGIN archives), :mod:`.java_properties`
(``plugin-descriptor.properties``),
:mod:`.user_dictionaries` (kuromoji and nori), :mod:`.word_lists` (OpenSearch's word-list
reader), :mod:`.lines` and :mod:`.java_strings` (Java's line and string handling),
:mod:`.standard_tokens` (the standard tokenizer's token characters, generated),
:mod:`.findings` (what a check reports).
"""

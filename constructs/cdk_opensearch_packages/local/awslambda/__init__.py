"""The emulated Lambda service: each invocation a fresh Python process (:mod:`.runner`,
:mod:`.bootstrap`).
"""

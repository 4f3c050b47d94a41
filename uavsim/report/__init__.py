"""Analyst reports: matplotlib figures, a self-contained HTML file and a PDF, in Vietnamese and English.

:func:`build_report` (in :mod:`uavsim.report.build`) is the one entry point: the CLI, ``analysis/`` and the
demo call it. Importing this package does nothing observable.
"""

from uavsim.report.build import DEFAULT_FORMATS, FORMATS, RC, build_report, split_choices

__all__ = ["DEFAULT_FORMATS", "FORMATS", "RC", "build_report", "split_choices"]

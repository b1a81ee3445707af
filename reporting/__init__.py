"""Scheduled strategic reports and Europol briefings, built from the chart catalogue and the analysis.

A report definition (YAML, `definition.py`) names audience, marking, period, scope, sections and charts;
`content.py` turns it, for one period and scope, into a `Report` (`model.py`): sections of checked
sentences, charts rendered at the export presets and suppressed tables; the renderers write the same
content as self-contained HTML, a paged PDF (Chromium's print), a PPTX deck and a CSV annex.
"""

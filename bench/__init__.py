"""``make bench``: kapp measured against the physical floor at ten years of clinic data.

Every figure is the median and 95th percentile of repeated runs, and where a baseline
makes sense (an empty Qt window, plain ``sqlite3``) the ratio to that baseline measured in
the same run, so a slow machine does not hide a slow kapp.
"""

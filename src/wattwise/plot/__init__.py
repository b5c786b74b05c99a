"""Static figures: one small figure model written as SVG (no dependency) or PNG
(matplotlib), and the layouts drawn with it.

``figure`` holds the primitives (lines, bands, points, text, a legend, round ticks,
labels placed apart); ``run`` lays out a run's power over time. The compression
study's Pareto front (``compress.plot``) is drawn with the same primitives, so
``wattwise compress --plot`` and ``wattwise report --png/--svg`` look alike and
an SVG and a PNG of one figure show the same thing at the same pixels.
"""

"""Measuring a run: the meter over the sensors, ``track``/``Run``, what a window gives
back, prediction from the first steps, and the facts stored with every run.

``wattwise.track`` and ``wattwise.Meter`` are the way in; the sensors themselves
live in ``wattwise.sensors``.
"""

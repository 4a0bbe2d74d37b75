"""Rides: storage, search and tags (store), pure ride metrics over arrays (metrics), comparisons of rides
(compare) and the training-load aggregates behind the dashboard (dashboard).

Owns: the ``rides``/``ride_samples``/``tags``/``climb_efforts`` tables and every figure computed from a ride
(intervals, efforts on climbs). Must never: parse files (that is core.files), build plans or read rules
(core.coach), or draw (core.views).
"""

"""File readers: GPX and FIT bytes in, ``ActivityStreams`` (numpy arrays) out; and the plausibility check every
import runs on them (plausibility.py: impossible positions, times, elevations and sensor values repaired or refused).

Owns: the XML/FIT decoding, hostile-input defences (defusedxml, size and shape limits), plausibility and the
rider's sentence for a bad file, and the one elevation-gain method (elevation.py: pure, shared by rides and
routes). Must never: open the database, write anywhere, or import store, rides, routes,
coach or views.
"""

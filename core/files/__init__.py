"""File readers: GPX and FIT bytes in, ``ActivityStreams`` (numpy arrays) out.

Owns: the XML/FIT decoding, hostile-input defences (defusedxml, size limits), the rider's sentence for a bad
file, and the one elevation-gain method (elevation.py: pure, shared by rides and routes). Must never: open the database, write anywhere, or import store, rides, routes, coach or views.
"""

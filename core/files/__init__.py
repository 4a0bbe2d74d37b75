"""File readers: GPX and FIT bytes in, ``ActivityStreams`` (numpy arrays) out.

Owns: the XML/FIT decoding, hostile-input defences (defusedxml, size limits) and the rider's sentence for a bad
file. Must never: open the database, write anywhere, or import store, rides, routes, coach or views.
"""

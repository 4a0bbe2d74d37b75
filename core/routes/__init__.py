"""Routes: planned and recorded routes in the database (store) and the pure split of an elevation profile into
climbs, descents and flats with grades, categories, FIETS and time estimates (sections).

Owns: ``routes``/``route_points``/``sections``/``climbs`` (the rider's known climbs), the riding model and the
climb matcher. Must never: import rides, coach or views; sections.py, model.py and climb_match.py never do I/O.
"""

"""Routes: planned and recorded routes in the database (store) and the pure split of an elevation profile into
climbs, descents and flats with grades, categories, FIETS and time estimates (sections).

Owns: ``routes``/``route_points``/``sections``. Must never: import rides, coach or views; sections.py never does
I/O.
"""

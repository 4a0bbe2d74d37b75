"""The ride list's sort keys and the SQL expression each sorts on. A module of its own, importing nothing, so the
command line builds its parser (``rides --sort``) without loading the metrics stack (numpy, scipy, pyarrow)."""

SORTABLE = {"started_at": "r.started_at", "name": "r.name", "distance_m": "r.distance_m",
            "moving_time_s": "r.moving_time_s", "elevation_gain_m": "r.elevation_gain_m",
            "avg_power_w": "r.avg_power_w", "normalized_power_w": "r.normalized_power_w",
            "avg_hr": "r.avg_hr", "tss": "r.tss", "sport_type": "r.sport_type"}

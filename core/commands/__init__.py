"""Sub-commands of ``python -m core``: each module has ``register(subparsers)``."""

# The module registering each command: a run builds only the sub-parser of the command it runs (argparse spends
# ~15 ms building all sixty, a tenth of a light command's start). Help and unknown words build them all.
# tests/test_cli_start.py checks this table against what every module registers.
MODULE_OF = {
    "analyze": "analysis", "analyses": "analysis", "analysis": "analysis",
    "export": "backup", "export-gpx": "backup", "restore": "backup",
    "init": "base", "demo": "base", "athletes": "base", "delete-athlete": "base",
    "check": "check",
    "climbs": "climbs", "climb": "climbs", "terrain": "climbs",
    "rules": "coach", "plan": "coach",
    "sync-garmin": "garmin", "garmin": "garmin",
    "health": "health",
    "import": "importing",
    "metrics": "metrics", "compare": "metrics",
    "owner": "owner",
    "power": "power", "recompute": "power",
    "rides": "rides", "ride": "rides",
    "routes": "routes", "sections": "routes", "route": "routes",
}

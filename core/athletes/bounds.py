"""What a profile may hold, shared by the models (core.athletes.profile) and the light readers (core.athletes):
a module of constants, so neither imports the other."""

FITNESS_LEVELS = ("beginner", "intermediate", "advanced", "elite")
# Riding settings kept in preferences, feeding route time estimates (core.routes.model): (low, high, default)
RIDING_SETTINGS = {"cda_m2": (0.15, 0.6, 0.32), "crr": (0.002, 0.02, 0.005), "bike_kg": (4.0, 40.0, 9.0)}
RIDING_LABELS = {"cda_m2": "CdA (m²)", "crr": "Rolling resistance Crr", "bike_kg": "Bike mass (kg)"}
MAX_PRIVACY_ZONES = 10

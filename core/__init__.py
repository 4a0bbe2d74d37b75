"""VeloCoach core: the product without the UI. Never imports streamlit."""

__version__ = "0.1.0"

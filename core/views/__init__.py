"""What pages show, built without Streamlit: maps (mapview), ride figures and tables (ridecharts), plan tables
and figures (planview), with formatting and escaping for where each string lands.

Must never: write to the database or import streamlit; it only reads and formats.
"""

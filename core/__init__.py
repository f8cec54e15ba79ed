"""Loupe core: everything a headless user needs. Never imports streamlit."""

__version__ = "0.1.0"

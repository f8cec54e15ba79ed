"""Sample datasets and the generators that make them (runtime state lives under LOUPE_HOME)."""

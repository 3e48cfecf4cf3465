"""rainscore: score IMERG half-hourly rain maps against Météo-France radar."""

__version__ = "0.1.0"

"""Balto: live counter audio → sales opportunities, and partnumber classification."""

__version__ = "0.1.0"

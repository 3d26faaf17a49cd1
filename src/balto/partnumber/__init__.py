"""Partnumber services: classification of items into the Harmonized System / NCM."""

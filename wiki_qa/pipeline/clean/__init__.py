"""Cleaning: markup -> plain text."""

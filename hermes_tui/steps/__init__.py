"""Headless wizard steps: inputs → outcome → state change, with no screen.

The Textual screens and ``setup --non-interactive`` are two front ends over this package;
nothing here imports textual.
"""

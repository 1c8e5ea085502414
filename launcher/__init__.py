"""Runs the whole platform on embedded defaults (`make up`)."""

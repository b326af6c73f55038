"""homeops.cli"""

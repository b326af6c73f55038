"""homeops.flux"""

"""homeops.rules"""

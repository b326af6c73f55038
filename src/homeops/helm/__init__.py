"""homeops.helm"""

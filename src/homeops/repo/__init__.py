"""homeops.repo"""

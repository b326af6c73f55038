"""homeops.author"""

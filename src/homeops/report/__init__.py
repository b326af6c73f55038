"""homeops.report"""

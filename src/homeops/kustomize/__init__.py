"""homeops.kustomize"""

"""Sensors."""

SENSORS: list = []

# jobs that only sensors launch (the inbox sensor's ingestion job)
JOBS: list = []

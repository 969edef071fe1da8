"""Sensors."""

SENSORS: list = []

"""Outbound merchant notifications: signed events POSTed to the merchant, and their delivery log.

Public entry point: `notifications.services.notify`. See README.md for the merchant-facing contract.
"""

"""Notifications and outgoing events: domain events, outgoing webhooks, the SNS topic.

Importing the package costs nothing: each module loads its own dependencies
(httpx, botocore) where first used.
"""

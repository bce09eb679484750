"""Moderation and spam signals (SPEC §10): what holds a submission back, and its review.

``signals`` and ``form_token`` are pure rules; ``screening`` applies them to one
submission; ``review`` decides what an operator's approve or reject does and
``decisions`` stores it; ``api`` and ``commands`` are the routes and the CLI.
"""

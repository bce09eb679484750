"""The operators' view of the delivery pipeline (SPEC §4): what waits for GitHub and why.

``states`` holds the pure rules (a submission's state, what retry and cancel do);
``listing`` pages through one state across apps; ``api`` and ``commands`` are the
routes and the CLI.
"""

"""AI triage: each delivered request analysed by Amazon Bedrock (SPEC §9).

``model`` holds the ``Analysis`` shape and its rules, ``prompt`` what the model
is told, ``bedrock`` the Converse adapter behind the ``Analyzer`` port.
"""

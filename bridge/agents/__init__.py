"""AI agents read the board: ``featurebridge mcp``, an MCP server over the bridge's HTTP API.

``client`` calls a running bridge (``serve`` or Lambda) over HTTP and turns its
error envelopes into :class:`~bridge.agents.client.ApiCallError`; ``summary``
folds export pages into a vote summary; ``server`` registers the read-only tools
with the MCP SDK, which only this command imports.
"""

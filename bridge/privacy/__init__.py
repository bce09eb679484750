"""Personal data that can be forgotten: one person's address erased from the index."""

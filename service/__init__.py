"""Answers questions over an index built by ``indexer``: HTTP API, and adapters around it."""

"""Data in: reading the cities' files, parsing, pandera schemas, validation with quarantine, derived tables, the cached dataset."""

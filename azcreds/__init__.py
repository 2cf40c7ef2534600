"""azcreds: typed, leak-proof Azure Storage credentials."""

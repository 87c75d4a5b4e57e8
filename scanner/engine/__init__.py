"""The matching engine: the prefilter (Hyperscan or regex), the matcher that confirms and validates each hit,
the decoders it looks through, the examples check."""

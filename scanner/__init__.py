"""tokenscan: a credential-leak scanner for scannable token formats."""

__version__ = "0.1.0"

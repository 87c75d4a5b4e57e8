"""Rules as data: the TOML loader, context specs, checksums the rules name, and gitleaks configurations read as
rules."""

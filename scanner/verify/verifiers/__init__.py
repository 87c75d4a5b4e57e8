"""One module per vendor. Registering a vendor is one line: its module name in MODULES."""

from __future__ import annotations

import importlib

MODULES = (
    "cloudflare",
    "github",
    "gitlab",
    "slack",
    "stripe",
    "npm",
    "huggingface",
    "openai",
    "anthropic",
    "sendgrid",
    "digitalocean",
    "aws",
    "notion",
    "netlify",
    "postman",
    "shopify",
    "pypi",
)


def load() -> None:
    for name in MODULES:
        importlib.import_module(f"{__name__}.{name}")

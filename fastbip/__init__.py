"""fastbip: planted people/item clusters, their purchases, and how well algorithms find them."""

__version__ = "0.1.0"

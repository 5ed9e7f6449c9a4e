"""The bottom layer, no torch: the user-facing errors (errors), files written whole or not at
all and text read within bounds (files), and photos decoded upright and saved atomically
(images). Every other layer reads and writes through these."""

__version__ = "0.1.0"

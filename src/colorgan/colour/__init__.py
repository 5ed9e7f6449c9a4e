"""Colour science: sRGB and CIE Lab constants and formulas (srgb), the numpy pixel paths that
compose every full-resolution output (pixels: fast YCbCr and per-pixel Lab; bands: the exact
Lab path in row bands), and kornia on tensors for training and evaluation (tensors)."""

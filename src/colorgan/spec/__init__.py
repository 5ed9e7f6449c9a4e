"""The torch-free description of a model: each generator's options and the priors it needs
(options), the priors' names (priors), the colour-hint format (hints), what a model file says
of itself (meta: stored saturation, mirror averaging, its sizes), the loss terms (terms) and
the bundled models (bundled). Configs, both engines and the light install read these without
importing torch."""

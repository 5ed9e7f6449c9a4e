"""The frozen networks whose outputs a generator may take beside L: an image embedding and a
segmentation (semantic.SemanticPriors, over the backbones of backbones.py). Their names, which
configs give, are in spec.priors."""

"""Reference photos, what is known of them before any network runs: how many a photo may have,
the square their lightness is seen at, and the grid on which a photo is matched to them.

A reference's colour never decides what matches: the photo's and each reference's lightness go
through the same frozen ImageNet network (priors.reference), whose features at 1/8 of the
square (a GRID x GRID grid) are matched, and only then does the reference's colour on that grid
travel to the places of the photo that match it."""

MAX_REFERENCES = 8  # a photo's references; each costs a run of the feature network
MAX_KEY_FRAMES = 256  # a film's coloured frames, each a reference over its shot
SIZE = 256  # the square a photo's and a reference's lightness are seen at
GRID = SIZE // 8  # the matching grid (the network's 1/8 stage)
FEATURES = 40 + 112  # its features at each place: its 1/8 stage and its 1/16 stage
DESCRIPTOR = 112 + 320  # its whole-photo descriptor: its 1/16 and 1/32 stages, pooled

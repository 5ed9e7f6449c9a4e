"""The front ends: the `colorgan` command (cli), its page (web, Gradio) and films (video),
and a run across a Ray cluster (cluster). Each holds a colorizer.Colorizer and never knows
which engine runs it."""

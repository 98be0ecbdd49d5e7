"""Automatic tiling: path discovery, the exact cost model that prices a plan
without lowering the model, and the search that chooses the plan."""

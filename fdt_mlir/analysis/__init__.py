"""Analyses: facts about the IR that passes, the search and the report read
and never change (kernels and their classification, sizes, liveness,
linearity, the abstract execution of tile loops, the planned arena)."""

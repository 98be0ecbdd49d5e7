"""Rewrites that passes share but that are not passes themselves: untying
shared values, partial sums, pad guards and tile-and-fuse scripting."""

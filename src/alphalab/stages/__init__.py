"""Stage logic: what each pipeline notebook does, as plain functions (notebooks stay thin).

This is the top layer beside :mod:`alphalab.pipeline`: it may import every other module.
"""

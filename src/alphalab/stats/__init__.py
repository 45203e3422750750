"""Statistics: performance and risk, HAC inference, factor alphas, bootstrap, overfitting.

Import from the submodules (``alphalab.stats.performance`` ...).
"""

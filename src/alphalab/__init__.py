"""alphalab: does a firm-level signal predict stock returns and risk?

Layers (a lower one never imports a higher one): ``data`` → ``validation`` → ``signals`` /
``panel`` → ``backtest`` / ``stats`` / ``events`` / ``regressions`` → ``robustness`` /
``walkforward`` → ``reporting`` → ``pipeline`` / ``cli`` / ``runner``.
"""

from __future__ import annotations

__version__ = "0.1.0"

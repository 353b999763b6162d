"""phinance-env: Phi-nance projections and backtests as an AWM environment."""

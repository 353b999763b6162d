"""The options desk's tools: quotes (chain, pricing, implied vol, projection, hedging) and
books (strategies, books, runs, notes)."""

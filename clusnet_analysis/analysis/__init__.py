"""Analyses: pure functions over the derived frames (exchanges view, expenses_eur, exchange_costs) and a Programme."""

"""Admin page of the collectors: per-account health and the dead letters."""

"""The accounts registry: public directory with QR codes, subscriber snapshots,
growth analytics and publication monitoring."""

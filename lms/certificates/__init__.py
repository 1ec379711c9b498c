"""Certificates for completed courses and promotions: the printable page and the public verification."""

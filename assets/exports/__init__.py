"""Dealer files: every dealer's reminder lists under ``paths.exports/<YYYY-MM>/<dealer_code>/``."""

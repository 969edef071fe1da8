"""Publishing the serving database: quality gate, then an atomic file swap."""

"""HTML views (thin): pages call selectors and services."""

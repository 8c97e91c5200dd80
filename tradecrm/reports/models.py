"""Reports, dashboards and exports. Exports stream and keep nothing."""

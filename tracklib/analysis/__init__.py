"""Pure transforms the dashboard pages call: filters, curves, sweeps, compare."""

"""Simulated devices the board and network tests talk to (no real hardware in the tests)."""

"""Command line: a click group, one module per command. Only this layer configures logging."""

"""One module per command group; each has ``register(subparsers)``, which adds its parser and sets
``func`` (called with the parsed arguments; returns the exit status)."""

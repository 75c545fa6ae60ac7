"""Subcommands of `warroom`, one module per area, each with `register(parser)`."""

"""Safety: the rules table, the one classification shared by simulated and real flights, and statistics."""

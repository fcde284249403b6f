"""The console pages' forms, one module per area: they validate input, actions do the rest."""

"""The console's pages, one module per area; they read through moderation.queries and write through
moderation.actions."""

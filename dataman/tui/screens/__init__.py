"""The console's screens: the dashboard, and small modal dialogs over it."""

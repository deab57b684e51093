"""The console's panels, one widget per module; each draws a ``ServiceView``."""

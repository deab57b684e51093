"""The running service: supervisor, workers, journal, systemd integration."""

"""Background work, run by `pictograph worker` or inside the server: fan-out and
notifications."""

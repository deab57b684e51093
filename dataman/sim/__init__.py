"""A stand-in camera: synthetic raw frames exactly as azcam writes them for MODS."""

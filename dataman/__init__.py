"""dataMan: the MODS data manager.

Turns each raw multi-extension FITS frame written by azcam for the MODS
spectrographs into an archive-ready file with a merged quick-look image, and
delivers it to the observatory staging disk.
"""

__version__ = "0.1.0"

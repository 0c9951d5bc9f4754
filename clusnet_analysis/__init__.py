"""clusnet_analysis: records of the CLUSNET staff exchange programme turned into evidence.

Imports are kept light here: heavy modules (pandera, matplotlib, papermill) load
only when the functions that need them are used.
"""
__version__ = "0.1.0"

"""clusnet_analysis: records of an inter-city staff exchange programme turned into evidence.

The programme (partner cities, rules, periods, themes) is data: a programme file.
The bundled one, ``programmes/clusnet.toml``, describes CLUSNET.

Imports are kept light here: heavy modules (pandera, matplotlib, papermill) load
only when the functions that need them are used.
"""
__version__ = "0.1.0"

"""clusnet_analysis: records of an inter-city staff exchange programme turned into evidence.

The programme (partner cities, rules, periods, themes) is data: a programme file.
One programme file is bundled in ``programmes/``; others are loaded the same way.

Imports are kept light here: heavy modules (pandera, matplotlib, papermill) load
only when the functions that need them are used.
"""
__version__ = "0.1.0"

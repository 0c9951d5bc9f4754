"""The programme as data: the programme file and cluster model, and the programme-rule checks (findings)."""

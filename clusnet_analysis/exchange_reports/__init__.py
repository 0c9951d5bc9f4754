"""Exchange reports: the programme's common report structure turned into a pre-filled Word template
per exchange (``template``), and received reports read (``read``), counted (``pages``) and checked
against the structure (``check``), with their outputs under ``reports/exchange_reports/`` (``outputs``).
"""
from clusnet_analysis.exchange_reports.outputs import (  # noqa: F401
    exchange_report_findings_fingerprint, load_exchange_report_findings)

"""Data collection from the cities: the workbook template, collecting returned files, correction workbooks."""

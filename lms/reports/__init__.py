"""Reports for managers and trainers: each report builds `ReportTable`s (lms/reports/tables.py) that a
page shows, a chart draws (templates/reports/_chart.html) and an export writes as CSV or XLSX."""

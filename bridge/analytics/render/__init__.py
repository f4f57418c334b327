"""Reports rendered for people: a self-contained HTML page (inline SVG charts), an Excel workbook, CSV files."""

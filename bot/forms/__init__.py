"""Helper forms: the form catalog and model, fillers and PDF/XLSX renderers."""

"""Publishing: safe file writes, provenance, the papermill batch, HTML pages, indexes and manifests, figure and table exports."""

"""Reporting: metrics files, provenance, figures and tables (read by notebooks and the dashboard)."""

"""Monitoring: the performance record, the alert rules, the report and its plots."""

"""Triage: features known at receipt, a calibrated model, agency-editable priority rules, a model registry
and scoring (in the ETL batch's transaction, or as a re-scoring run). See docs/CLASSIFICATION.md."""

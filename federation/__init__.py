"""Federation across agencies: federated training of the triage model and privacy-protected EU aggregates.

Each agency keeps its own warehouse; only model updates and noisy, suppressed aggregates leave it.
"""

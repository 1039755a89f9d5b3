"""Idle-cost estimate of the synthesized stack: price table, template reader, estimators, report."""

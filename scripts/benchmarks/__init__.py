"""Benchmarks and reference implementations: the lakehouse, loader and Athena
bytes benchmarks, and the hand-written PySpark and DuckDB references whose
results the dbt models are checked against.
"""

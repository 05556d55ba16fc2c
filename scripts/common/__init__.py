"""Shared by the commands, the development tools and the test services: where
the project is, dbt in-process, the AWS session, the landing files, Java and
the Spark driver's JVM options, pinned downloads, and the CLIs' logging.

Imports nothing else from scripts/.
"""

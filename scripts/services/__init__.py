"""Local stand-ins for what the project talks to, for tests, demos and the
benchmarks: an S3 API server, moto's S3 and Glue, a Spark Thrift server,
Trino and the Athena API on it.
"""

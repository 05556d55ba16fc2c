"""The project's Python, by role.

- scripts/ itself: the commands users run (make run, the generator, the
  loader, the AWS bootstrap, erasure requests, the athena target on a local
  Trino).
- scripts/common: what they share; imports nothing else from scripts/.
- scripts/services: local stand-ins (S3, Glue, a Spark Thrift server, Trino
  and the Athena API) for tests, demos and benchmarks.
- scripts/devtools: checks, the docs tests' browser, the JVM class archive,
  the hadoop-aws jars.
- scripts/benchmarks: benchmarks and the reference implementations.
"""

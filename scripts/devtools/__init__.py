"""Development tools: the checks make lint and the pre-commit hooks run, the
browser for the docs tests, the JVM class archive, and the hadoop-aws jars.
"""

"""A local Athena: the Athena API, answered by a Trino server.

dbt-athena (unmodified) sends its queries to this service instead of AWS:
point AWS_ENDPOINT_URL_ATHENA at it and AWS_ENDPOINT_URL at the local AWS
server (moto, scripts/services/local_aws_server.py) that holds S3 and Glue. Trino's
Hive connector uses that same Glue as its metastore and that same S3 as its
storage, so what dbt-athena reads from Glue directly (tables, partitions,
columns) is what Trino wrote, as on AWS.

The service answers the query calls (StartQueryExecution, with
ExecutionParameters; GetQueryExecution, BatchGetQueryExecution,
GetQueryResults, StopQueryExecution, ListQueryExecutions) and the metadata
calls, from Glue (ListDataCatalogs, GetDataCatalog, ListDatabases,
GetDatabase, GetTableMetadata, ListTableMetadata). Each query runs on Trino
in a worker thread and reports its state, its error (Trino's error name and
message, as Athena prints them) and its statistics (DataScannedInBytes =
Trino's physical input bytes). Every other Athena call (work groups, for
example) goes to the local AWS server unchanged.

Results are written as Athena writes them, with the caller's credentials,
to the result location: a query's rows to <id>.csv (Athena's header row
first) and its columns to <id>.csv.metadata; a DDL or utility statement's
to <id>.txt; a write (CTAS, INSERT INTO, UNLOAD) leaves <id>.metadata and
<id>-manifest.csv, the files it wrote (Statistics.DataManifestLocation).
GetQueryResults reads them back. awswrangler and pyathena read those files
directly, as they do on AWS.

Athena's own dialect is translated where Trino's differs (translate()):
- Hive DDL (CREATE EXTERNAL TABLE with a SerDe, ALTER TABLE SET
  TBLPROPERTIES, ALTER TABLE DROP PARTITION): Athena runs it against Glue,
  and so does the service;
- CTAS properties Trino does not have (table_type, is_external) are dropped,
  write_compression becomes Trino's compression_codec session property;
- backtick identifiers become double quotes;
- UNLOAD, which Trino lacks, runs as a CTAS of an external table through a
  catalog of the caller's S3 access whose metastore is on local disk, so
  that Glue never sees it; the table is dropped, its files stay.
A view that Trino creates stores one column, `dummy`, in Glue; the service
writes the view's real columns there, as Athena does, because dbt-athena
reads a relation's columns from Glue.

IAM: with $STEDI_ENFORCE_IAM=1, each Athena call is authorized by the
caller's IAM policies on its work group, as the local AWS server authorizes
S3 and Glue (scripts/services/iam_enforcement.py), and the Hive DDL a caller
sends runs against Glue with the caller's own key (``credentials``). A
query runs in the caller's Trino catalog (``catalogs``: a catalog per local
IAM user, whose S3 and Glue calls carry that user's key; the catalog
`awsdatacatalog` the SQL names becomes the caller's), so Trino reads and
writes only what the caller's policies allow, as Athena does with the
caller's credentials. The administrator's queries run in `awsdatacatalog`
(the runner's, in the local build); an IAM user with no catalog is refused.
The metadata calls are authorized on the data catalog, then read Glue with
the caller's key; GetQueryResults reads the result files with it, so the
caller needs s3:GetObject on its result location, as on Athena.

Limits: one Trino, one account and region; no workgroup limits; query
IDs are forgotten on exit (their result files stay).

The modules, from the wire inwards: api (the HTTP API and its calls),
service (the executions run, their result files written and paged), iam
(each call authorized, the caller's catalog and clients), executions (an
execution, and the query history), metadata (the metadata calls),
translation (Athena's SQL as Trino runs it), results (Athena's types,
result text and files), limits (Athena's limits, or a test's stricter
ones).
"""

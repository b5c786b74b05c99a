"""Run records: the SQLite schema, the one connection per process and file, its writer,
the read queries and the exports.

- ``schema``: the schema, its version and migrations; ``rows``: what rows hold.
- ``database`` and ``writer``: the process's one connection per file and its one
  writer thread; ``recorder``: a tracked run's record, written without waiting.
- ``store``: ``Store``, the API over these; ``queries``: its reads and the rows
  they return; ``liveness``: whether a run's process is still alive.
- ``export_json``, ``export_csv``, ``export_codecarbon``: a run out of wattwise,
  over the strict values of ``export_values``.

Tracking writes through the writer's bounded queue so a slow or locked database
never blocks the user's code.
"""

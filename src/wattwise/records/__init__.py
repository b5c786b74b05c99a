"""Run records: the SQLite schema, the one connection per process and file, and its writer.

``wattwise.store.Store`` is the API over these; tracking writes through the
writer's bounded queue so a slow or locked database never blocks the user's code.
"""

"""The scan catalog: per-distribution facts about native files, kept in SQLite.

:mod:`.model` is the plain data a worker returns, :mod:`.extract` produces it from
a wheel or an installed distribution, :mod:`.sources` finds what to scan,
:mod:`.store` keeps it, :mod:`.queries` and :mod:`.conflicts` turn it into reports.
"""

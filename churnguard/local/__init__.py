"""The local stand-in for Aurora: the throwaway MariaDB server (server.py), the state file that records
it (state.py), which database a command uses (url.py) and preparing a database end to end (install.py).

The database client (churnguard.db) imports nothing from this package: the stand-in uses the client,
never the other way round.
"""
